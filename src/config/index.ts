export { CONFIG_FILE_NAME, configPath, loadConfig, saveConfig, withField } from './config-file.js';
export { DATA_DIR_ENV, resolveDataDir } from './data-dir.js';
export { ConfigError } from './errors.js';
export { type Config, ConfigSchema, DEFAULT_CONFIG } from './schema.js';
