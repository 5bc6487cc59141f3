import bearerAuth from '@fastify/bearer-auth';
import fp from 'fastify-plugin';
import type { ErrorReply } from './error-replies';

export interface CallbackAuthOptions {
  /** When set, requests must carry `Authorization: Bearer <token>`; when unset, nothing is checked. */
  token?: string;
}

/** Bearer authentication for the routes of the context that registers it (the callback's, not the probes'). */
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
