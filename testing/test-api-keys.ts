// API keys the tests authenticate with (API_KEYS of the worker test project,
// and the default of startWranglerDev). Two tenants, so isolation can be tested.
export const TEST_API_KEY = "sk-epikv-test-key-0001";
export const TEST_TENANT = "test";
export const OTHER_API_KEY = "sk-epikv-test-key-0002";
export const OTHER_TENANT = "other";
/** The API_KEYS value ("key:tenant,…"). */
export const TEST_API_KEYS = `${TEST_API_KEY}:${TEST_TENANT},${OTHER_API_KEY}:${OTHER_TENANT}`;
