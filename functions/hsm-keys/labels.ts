import type { HsmKeyRef } from "../../shared/hsm/port.js";

/** Tenants share the HSM: a tenant's `hsm::<slot>::<label>` is `<tenant>.<label>` inside it. */
export const inTenant = (tenant: string, ref: HsmKeyRef): HsmKeyRef => ({ slot: ref.slot, label: `${tenant}.${ref.label}` });

export const outOfTenant = (tenant: string, label: string): string => label.slice(tenant.length + 1);
