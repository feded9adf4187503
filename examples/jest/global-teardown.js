// Stops the instance global-setup.js started; its in-memory state and temporary token go with it.
module.exports = async function globalTeardown() {
  await globalThis.__SECRETSLITE__?.stop();
};
