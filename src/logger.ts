import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat } from './config';

export type { Logger };

export function createLogger(level: string, name: string, format: LogFormat = 'auto'): Logger {
  const readable = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!readable) return pino({ level, name });
  // Synchronous, like pino's default, so the last lines before an exit are written.
  return pino(
    { level, name },
    pretty({ sync: true, singleLine: true, ignore: 'pid,hostname,taskToken', translateTime: 'SYS:HH:MM:ss.l' }),
  );
}
