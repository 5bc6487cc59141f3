import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat } from './config';

export type { Logger };

/** `auto`: readable lines in a terminal, JSON lines (for log collectors) anywhere else. */
export function createLogger(level: string, name: string, format: LogFormat = 'auto'): Logger {
  const readable = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!readable) return pino({ level, name });
  // Synchronous, so that the last lines before an exit are written, as pino's own default does.
  // One line per entry, without what only a machine reads (the SDK's task tokens).
  return pino(
    { level, name },
    pretty({ sync: true, singleLine: true, ignore: 'pid,hostname,taskToken', translateTime: 'SYS:HH:MM:ss.l' }),
  );
}
