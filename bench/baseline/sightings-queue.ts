import { connect, type ChannelModel } from 'amqplib';

/** One message per sighted id, like one signal per id in the project. */
export interface SightingMessage {
  id: number;
  receivedAtMs: number;
}

export const encodeSighting = (sighting: SightingMessage): Buffer => Buffer.from(JSON.stringify(sighting));
export const decodeSighting = (content: Buffer): SightingMessage => JSON.parse(content.toString()) as SightingMessage;

export interface QueueSettings {
  amqpUrl: string;
  queue: string;
}

export function queueSettingsFromEnv(): QueueSettings {
  const queue = process.env.BASELINE_QUEUE;
  if (!queue) throw new Error('BASELINE_QUEUE is not set');
  return { amqpUrl: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', queue };
}

/** Connects and declares the durable queue; a lost broker connection ends the process, visibly. */
export async function connectQueue({ amqpUrl, queue }: QueueSettings): Promise<ChannelModel> {
  const connection = await connect(amqpUrl);
  connection.on('error', (error: Error) => console.error(`baseline: RabbitMQ connection error: ${error.message}`));
  connection.on('close', () => {
    console.error('baseline: RabbitMQ connection closed');
    process.exit(1);
  });
  const channel = await connection.createChannel();
  await channel.assertQueue(queue, { durable: true });
  await channel.close();
  return connection;
}
