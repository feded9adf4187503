// A second handle on the test token's library: its sessions belong to the same application as the stores', so they
// share the stores' login and see their session objects, and C_GetInfo tells whether the library is initialised.

import * as graphene from "graphene-pk11";

export interface TokenProbe {
  readonly module: graphene.Module;
  /** Runs `use` in a fresh read-only session on the token labelled `tokenLabel`, closed afterwards. */
  withSession<T>(use: (session: graphene.Session) => T): T;
}

export function tokenProbe(modulePath: string, tokenLabel: string): TokenProbe {
  const module = graphene.Module.load(modulePath);
  return {
    module,
    withSession<T>(use: (session: graphene.Session) => T): T {
      const slots = module.getSlots(true);
      for (let i = 0; i < slots.length; i++) {
        const slot = slots.items(i);
        if (slot.getToken().label !== tokenLabel) continue;
        const session = slot.open(graphene.SessionFlag.SERIAL_SESSION);
        try {
          return use(session);
        } finally {
          session.close();
        }
      }
      throw new Error(`test token '${tokenLabel}' not found`);
    },
  };
}
