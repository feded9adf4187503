// The Store contract suite on PostgreSQL: a fresh database per case, in the run's shared throwaway cluster.
import { openPgStore } from "../../src/storage/pg-store";
import { sharedPostgres, type PostgresCluster } from "../support/postgres";
import { storeContract } from "./store-contract";

let cluster: PostgresCluster;

beforeAll(async () => {
  cluster = await sharedPostgres();
});
afterAll(async () => {
  await cluster.stop();
});

storeContract("postgres", async () => ({ store: await openPgStore({ connectionString: await cluster.createDatabase() }), dir: undefined }));
