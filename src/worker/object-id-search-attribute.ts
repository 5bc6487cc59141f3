import type { Client } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  encodeSearchAttributeIndexedValueType,
  type SearchAttributeKey,
} from '@temporalio/common/lib/search-attributes';
import type { Logger } from '../logger';

/**
 * Every run of an object's workflow carries its object id, so the Web UI finds an object's whole
 * history with `ObjectId = 42`, continue-as-new runs included. Int rather than Keyword because
 * ranges (`ObjectId BETWEEN 1 AND 100`) and numeric order work on every visibility store we run:
 * the dev server's SQLite and Compose's PostgreSQL; a Keyword would compare "100" < "42".
 */
export const OBJECT_ID_SEARCH_ATTRIBUTE = defineSearchAttributeKey('ObjectId', SearchAttributeType.INT);

export type ObjectIdSearchAttribute = SearchAttributeKey<typeof SearchAttributeType.INT>;

/** Int as the operator service's requests and answers spell it (INDEXED_VALUE_TYPE_INT). */
const INT = encodeSearchAttributeIndexedValueType(SearchAttributeType.INT)!;

/**
 * The ObjectId key when the namespace has it as an Int, registering it first where the server lets
 * us; undefined otherwise. A start that sets an attribute its namespace lacks fails, and the
 * hand-out would retry it forever, so without the attribute the worker runs without setting it.
 */
export async function ensureObjectIdSearchAttribute(
  client: Client,
  namespace: string,
  logger: Logger,
): Promise<ObjectIdSearchAttribute | undefined> {
  const { name } = OBJECT_ID_SEARCH_ATTRIBUTE;
  const registeredType = async () => {
    // The operator service's list, unlike the workflow service's getSearchAttributes, answers
    // per namespace and also on Temporal Cloud (the Web UI relies on it).
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
        // Refused where this worker's credentials may not change the namespace (Temporal Cloud).
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
