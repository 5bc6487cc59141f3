import type { FastifyError } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** For metrics; empty when the request succeeded. */
    errorCode: string;
  }
}

export interface ErrorReply {
  error: string;
  message: string;
}

const codeByFastifyError: Record<string, string> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  PT_ERR_INVALID_UTF8: 'invalid_encoding',
};

function errorReplyFor(error: FastifyError): { statusCode: number; body: ErrorReply } {
  if (error.validation) {
    const code = error.validationContext === 'headers' ? 'invalid_header' : 'invalid_body';
    return { statusCode: 400, body: { error: code, message: error.message } };
  }
  const statusCode = error.statusCode ?? 500;
  if (statusCode >= 500) {
    return { statusCode: 500, body: { error: 'internal_error', message: 'unexpected error; see the service log' } };
  }
  // JSON.parse failures reach here as SyntaxError carrying a 400 status.
  const code =
    (error.code && codeByFastifyError[error.code]) || (error instanceof SyntaxError ? 'invalid_json' : 'bad_request');
  return { statusCode, body: { error: code, message: error.message } };
}

export default fp(
  async (app) => {
    app.decorateRequest('errorCode', '');
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const { statusCode, body } = errorReplyFor(error);
      request.errorCode = body.error;
      if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
      return reply.code(statusCode).send(body);
    });
    app.setNotFoundHandler((request, reply) =>
      reply.code(404).send({ error: 'not_found', message: `no route for ${request.method} ${request.url}` }),
    );
  },
  { name: 'error-replies' },
);
