import createError from '@fastify/error';
import fp from 'fastify-plugin';

const InvalidUtf8Error = createError('PT_ERR_INVALID_UTF8', 'Body is not valid UTF-8', 400);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// Fastify would also parse text/plain, and would turn invalid UTF-8 into U+FFFD; both are refused.
// Parsing itself stays Fastify's (prototype-poisoning safe).
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
