/** The built-in CRM directory (imported from CSV). */
export const CRM_SCHEMA = `
  CREATE TABLE crm_customers (
    id TEXT PRIMARY KEY,
    record_json TEXT NOT NULL,
    phone TEXT,
    site TEXT,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX crm_customers_phone ON crm_customers (phone);
  CREATE INDEX crm_customers_site ON crm_customers (site);
  CREATE TABLE crm_assets (
    serial TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES crm_customers (id) ON DELETE CASCADE,
    device_id TEXT,
    model TEXT
  );
  CREATE INDEX crm_assets_device ON crm_assets (device_id);
  CREATE INDEX crm_assets_customer ON crm_assets (customer_id);
`;
