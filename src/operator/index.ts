export * from './accounts.ts';
export * from './audit.ts';
export * from './suspensions.ts';
export { mountOperatorConsole, type OperatorMountContext, type OperatorPartOptions } from './part.ts';
export { CONSOLE_BASE } from './console/pages.ts';
export { OPERATOR_COOKIE, operatorOf } from './console/plugin.ts';
