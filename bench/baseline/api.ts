import type { ConfirmChannel } from 'amqplib';
import { buildApp } from '../../src/api/app';
import { RecorderUnavailableError, type CallbackRecorder } from '../../src/callbacks/recorder';
import type { AcceptedCallback } from '../../src/workflows';
import { createLogger } from '../../src/logger';
import { connectQueue, encodeSighting, queueSettingsFromEnv } from './sightings-queue';

/**
 * The baseline's callback API: the project's own Fastify app (same validation, same replies),
 * with a recorder that publishes each id as a persistent message and answers only once the
 * broker has confirmed every one of them.
 */
class QueueSightingRecorder implements CallbackRecorder {
  constructor(
    private readonly channel: ConfirmChannel,
    private readonly queue: string,
  ) {}

  async record({ objectIds, receivedAtMs }: AcceptedCallback): Promise<string> {
    try {
      await Promise.all(
        objectIds.map(
          (id) =>
            new Promise<void>((resolve, reject) => {
              this.channel.sendToQueue(
                this.queue,
                encodeSighting({ id, receivedAtMs }),
                { persistent: true },
                (error) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve()),
              );
            }),
        ),
      );
      return 'rabbitmq';
    } catch (error) {
      throw new RecorderUnavailableError(`RabbitMQ did not confirm the callback: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async isReachable(): Promise<boolean> {
    return true;
  }
}

async function main(): Promise<void> {
  const settings = queueSettingsFromEnv();
  const connection = await connectQueue(settings);
  const channel = await connection.createConfirmChannel();
  const app = buildApp({
    recorder: new QueueSightingRecorder(channel, settings.queue),
    // The baseline's API never touches the database; readiness is not part of the comparison.
    isDatabaseReachable: async () => true,
    logger: createLogger(process.env.LOG_LEVEL ?? 'warn', 'baseline-api'),
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
