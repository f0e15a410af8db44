import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes: the Web UI shows them as columns and operators filter with
 * `temporal workflow list -q 'ServetuneDeployment="localhost:8000" AND ServetuneStatus="rolling_out"'`.
 */
export const DEPLOYMENT_KEY = defineSearchAttributeKey('ServetuneDeployment', SearchAttributeType.KEYWORD);
export const ENGINE_KEY = defineSearchAttributeKey('ServetuneEngine', SearchAttributeType.KEYWORD);
export const STATUS_KEY = defineSearchAttributeKey('ServetuneStatus', SearchAttributeType.KEYWORD);
export const STAGE_KEY = defineSearchAttributeKey('ServetuneStage', SearchAttributeType.KEYWORD);
/** On a deployment's guard: the rollout it holds the deployment for (found before that rollout has started). */
export const ROLLOUT_KEY = defineSearchAttributeKey('ServetuneRollout', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_KEYS = [DEPLOYMENT_KEY, ENGINE_KEY, STATUS_KEY, STAGE_KEY, ROLLOUT_KEY];
