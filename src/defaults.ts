import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from './config-error';

// Small on purpose: prisma.config.ts and `npm run studio` import it without the service's configuration.

/** Where `npm start` runs its embedded services; parts started alone look there by default. */
export const EMBEDDED_TEMPORAL_PORT = 7233;
export const EMBEDDED_TEMPORAL_ADDRESS = `127.0.0.1:${EMBEDDED_TEMPORAL_PORT}`;
export const EMBEDDED_DATABASE_PORT = 5433;
export const EMBEDDED_DATABASE_USER = 'postgres';
/** Where `npm start` keeps its embedded servers' data; EMBEDDED_DATA_DIR moves it (the tests use their own). */
export const EMBEDDED_DATA_DIR = process.env.EMBEDDED_DATA_DIR || path.join(__dirname, '..', '.data');
/** The embedded database's superuser password, made at random when its data directory is set up; mode 0600. */
export const embeddedDatabasePasswordFile = (dataDir: string): string => path.join(dataDir, 'postgres-password');
export const readEmbeddedDatabasePassword = (dataDir: string): string =>
  readFileSync(embeddedDatabasePasswordFile(dataDir), 'utf8').trim();
export const embeddedDatabaseUrl = (password: string | undefined, port = EMBEDDED_DATABASE_PORT): string => {
  const url = new URL(`postgresql://${EMBEDDED_DATABASE_USER}@127.0.0.1:${port}/postgres`);
  if (password) url.password = password;
  return url.toString();
};

function passwordIfAny(): string | undefined {
  try {
    return readEmbeddedDatabasePassword(EMBEDDED_DATA_DIR);
  } catch {
    // Before the first `npm start` there is no password, and no database to open either; a file
    // that is not this user's (someone else's checkout) must not stop a part that has DATABASE_URL.
    return undefined;
  }
}
/** Read as a process starts: the database `npm start` runs on EMBEDDED_DATA_DIR. */
export const EMBEDDED_DATABASE_URL = embeddedDatabaseUrl(passwordIfAny());

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
