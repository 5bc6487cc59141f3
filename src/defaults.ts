import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './config-error';

// Small on purpose: prisma.config.ts and `npm run studio` import it without the service's configuration.

/** Where `npm start` runs its embedded services; parts started alone look there by default. */
export const EMBEDDED_TEMPORAL_PORT = 7233;
export const EMBEDDED_TEMPORAL_ADDRESS = `127.0.0.1:${EMBEDDED_TEMPORAL_PORT}`;
export const EMBEDDED_DATABASE_PORT = 5433;
// A development server on loopback: the password only keeps it from being a trust-all database.
export const EMBEDDED_DATABASE_USER = 'postgres';
export const EMBEDDED_DATABASE_PASSWORD = 'postgres';
export const embeddedDatabaseUrl = (port = EMBEDDED_DATABASE_PORT): string =>
  `postgresql://${EMBEDDED_DATABASE_USER}:${EMBEDDED_DATABASE_PASSWORD}@127.0.0.1:${port}/postgres`;
export const EMBEDDED_DATABASE_URL = embeddedDatabaseUrl();

export const withoutPassword = (url: string): string => {
  const shown = new URL(url);
  if (shown.password) shown.password = '***';
  return shown.toString();
};

// A variable already set wins over the file unless empty: empty counts as unset everywhere in this service.
export function loadDotEnv(
  directory: string = process.cwd(),
  target: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const file = path.join(directory, '.env');
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`Invalid configuration. .env: cannot read ${file}: ${(error as Error).message}`);
  }
  for (const [name, value] of Object.entries(parseEnv(content))) {
    if (value !== undefined && (target[name] === undefined || target[name] === '')) target[name] = value;
  }
  return file;
}
