export type { PubkyParseErrorCode, RecoveryFileErrorCode } from './errors.js';
export { PubkyParseError, RecoveryFileError } from './errors.js';
export { Keypair, verifySignature } from './keypair.js';
export { isPubky, PublicKey, parsePubky, Z32_KEY_LENGTH } from './public-key.js';
export { createRecoveryFile, decryptRecoveryFile } from './recovery-file.js';
