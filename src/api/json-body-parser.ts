import createError from '@fastify/error';
import type { FastifyInstance } from 'fastify';

export const InvalidUtf8Error = createError('PT_ERR_INVALID_UTF8', 'Body is not valid UTF-8', 400);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Fastify's JSON parser decodes bodies leniently, turning invalid UTF-8 into U+FFFD; a callback
 * with broken bytes is rejected instead. Parsing itself stays Fastify's (prototype-poisoning safe).
 */
export function installStrictJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    let text: string;
    try {
      text = strictUtf8.decode(body);
    } catch {
      done(new InvalidUtf8Error(), undefined);
      return;
    }
    void parseJson(request, text, done);
  });
}
