/** A setting the operator has to change; its message names the variable (or port) and says how. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
