/**
 * Who may do what through the API, lowest first. One list for the users file, the API's schemas, the
 * route table and the dashboard. `field` ranks below viewer: the repair crew's app reaches its
 * work-order routes and nothing else.
 */
export const ROLES = ['field', 'viewer', 'operator', 'engineer'] as const;
export type Role = (typeof ROLES)[number];
export const ROLE_RANK: Record<Role, number> = { field: -1, viewer: 0, operator: 1, engineer: 2 };
