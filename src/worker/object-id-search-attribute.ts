import type { Client } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  encodeSearchAttributeIndexedValueType,
  type SearchAttributeKey,
} from '@temporalio/common/lib/search-attributes';
import type { Logger } from '../logger';

// Lets the Web UI find all of an object's runs by `ObjectId = 42`. Int, not Keyword: ranges and
// numeric order work on every visibility store we run, where a Keyword compares "100" < "42".
export const OBJECT_ID_SEARCH_ATTRIBUTE = defineSearchAttributeKey('ObjectId', SearchAttributeType.INT);

export type ObjectIdSearchAttribute = SearchAttributeKey<typeof SearchAttributeType.INT>;

const INT = encodeSearchAttributeIndexedValueType(SearchAttributeType.INT)!;

// undefined unless the namespace has ObjectId as an Int: a start setting a missing attribute fails,
// and the hand-out would retry it forever.
export async function ensureObjectIdSearchAttribute(
  client: Client,
  namespace: string,
  logger: Logger,
): Promise<ObjectIdSearchAttribute | undefined> {
  const { name } = OBJECT_ID_SEARCH_ATTRIBUTE;
  const registeredType = async () => {
    // Unlike getSearchAttributes, the operator service answers per namespace, on Temporal Cloud too.
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
    return customAttributes[name];
  };
  const howToRegister =
    `register it with \`temporal operator search-attribute create --namespace ${namespace} --name ${name} --type Int\`` +
    ` (on Temporal Cloud: \`tcld namespace search-attributes add --namespace ${namespace} --search-attribute ${name}=Int\`)` +
    ' and restart the workers';
  try {
    let type = await registeredType();
    if (type === undefined) {
      try {
        await client.connection.operatorService.addSearchAttributes({ namespace, searchAttributes: { [name]: INT } });
        logger.info({ namespace }, `registered the ${name} search attribute`);
      } catch (error) {
        // Expected where the credentials may not change the namespace (Temporal Cloud).
        logger.debug({ err: error, namespace }, `could not register the ${name} search attribute`);
      }
      type = await registeredType();
    }
    if (type === INT) return OBJECT_ID_SEARCH_ATTRIBUTE;
    logger.warn(
      { namespace },
      type === undefined
        ? `namespace has no ${name} search attribute: object workflows start without it; ${howToRegister}`
        : `namespace's ${name} search attribute is not an Int: object workflows start without it`,
    );
  } catch (error) {
    logger.warn(
      { err: error, namespace },
      `could not list the namespace's search attributes: object workflows start without ${name}; ${howToRegister}`,
    );
  }
  return undefined;
}
