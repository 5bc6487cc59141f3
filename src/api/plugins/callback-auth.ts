import bearerAuth from '@fastify/bearer-auth';
import fp from 'fastify-plugin';
import type { ErrorReply } from './error-replies';

export interface CallbackAuthOptions {
  token?: string;
}

export default fp<CallbackAuthOptions>(
  async (app, { token }) => {
    if (!token) return;
    await app.register(bearerAuth, {
      keys: [token],
      // Checked before the body is read: an unauthenticated callback costs next to nothing.
      addHook: 'onRequest',
      errorResponse: (error): ErrorReply => ({ error: 'unauthorized', message: error.message }),
    });
  },
  { name: 'callback-auth' },
);
