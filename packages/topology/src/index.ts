/**
 * @imslab/topology: what every element kind is planned with: networks and
 * addresses per target and slot, the subscriber file, the element-kind
 * interface, configuration templates and the testbed PKI. The kinds
 * themselves live in services/<kind>/element.ts; @imslab/network lists them.
 */
export * from './errors.ts';
export * from './networks.ts';
export * from './subscribers.ts';
export * from './kind.ts';
export * from './template.ts';
export * from './pki.ts';
