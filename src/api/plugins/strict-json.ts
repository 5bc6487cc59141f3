import createError from '@fastify/error';
import fp from 'fastify-plugin';

const InvalidUtf8Error = createError('PT_ERR_INVALID_UTF8', 'Body is not valid UTF-8', 400);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Only JSON is a callback: without this Fastify would parse text/plain bodies too. And Fastify's
 * JSON parser decodes bodies leniently, turning invalid UTF-8 into U+FFFD; a callback with broken
 * bytes is rejected instead. Parsing itself stays Fastify's (prototype-poisoning safe).
 */
export default fp(
  async (app) => {
    app.removeContentTypeParser('text/plain');
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
  },
  { name: 'strict-json' },
);
