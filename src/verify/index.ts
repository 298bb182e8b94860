export {
  checkBackup,
  type LocalCheckOptions,
  type LocalCheckReport,
  type LocalProblem,
} from './local-check.js';
