import { Client, Connection } from '@temporalio/client';
import { temporalAddressOf, type Config } from '../config';

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddressOf(config) });
  return new Client({ connection, namespace: config.temporalNamespace });
}
