/**
 * @imslab/network: the registry of element kinds and what is built from it:
 * the network plan, each element's configuration, and the compose file.
 */
export { KINDS, ON_DEMAND_KINDS, kindOf, type ElementKindName, type ElementPlan, type Kind } from './registry.ts';
export { NetworkOverridesSchema, OVERRIDE_OWNER, addressOwner, elementByName, elementsOf, planNetwork, startStages, type NetworkOverrides } from './plan.ts';
export { controlUrlOf, controllable, leavesOf, listensOf, pkiEntities, readinessOf, renderElement, uesOf, deviceNames, volumesOf } from './elements.ts';
export type { UePlan } from '@imslab/ue/element';
export type { AgwPlan } from '@imslab/ims-agw/element';
export type { PcscfPlan } from '@imslab/pcscf/element';
export { ue } from '@imslab/ue/element';
export { imsAgw } from '@imslab/ims-agw/element';
export {
  COMPOSE_RUN, CONTAINER_CONFIG_DIR, CONTAINER_PATHS, CONTAINER_RUN_DIR, DOCKER_NETWORKS, LABEL, LABEL_ELEMENT, LABEL_KIND, LABEL_RUN,
  allImages, containerName, demuxLogs, endpointsOf, gatewayOf, imageOf, imageTag, volumeName,
} from './docker-layout.ts';
export { writeContainerConfig } from './config-dir.ts';
export { COMPOSE_DIR, composeConfigDir, composeDocument, composeRunDir, composeYaml, renderComposeConfigs } from './compose.ts';
