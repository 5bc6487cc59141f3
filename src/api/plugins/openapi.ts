import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

// Registered before the routes, on the whole app, so it sees every one.
export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Presence tracker',
          version: '1',
          description: 'Callbacks listing object ids; online objects are kept with the time they were last seen.',
        },
        components: {
          securitySchemes: {
            callbackToken: { type: 'http', scheme: 'bearer', description: 'Only when CALLBACK_TOKEN is set' },
          },
        },
      },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  },
  { name: 'openapi' },
);
