export {
  checkBackup,
  type LocalCheckOptions,
  type LocalCheckReport,
  type LocalProblem,
} from './local-check.js';
export {
  type RemoteFinding,
  type RemoteProblem,
  type RemoteVerifyOptions,
  type RemoteVerifyReport,
  verifyAgainstHomeserver,
} from './remote-verify.js';
export {
  KEPT_VERIFY_REPORTS,
  latestVerifySummary,
  saveVerifyReport,
  type VerifySummary,
} from './verify-reports.js';
