/**
 * The built-in CRM directory (imported from CSV). A customer is its record as JSON plus the columns
 * it is looked up by; its appliances are rows of their own, so a serial belongs to one customer at a
 * time and moving it is one upsert.
 */
export const CRM_SCHEMA = `
  CREATE TABLE crm_customers (
    id TEXT PRIMARY KEY,
    -- The CustomerRecord without assets (they are in crm_assets) and without source.
    record_json TEXT NOT NULL,
    -- E.164, normalised at import: lookups compare it as is.
    phone TEXT,
    -- The Vigie site the customer's appliances are on (lookup by site when it has one customer).
    site TEXT,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX crm_customers_phone ON crm_customers (phone);
  CREATE INDEX crm_customers_site ON crm_customers (site);
  CREATE TABLE crm_assets (
    -- Devices report serials in whatever case their firmware uses.
    serial TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    customer_id TEXT NOT NULL REFERENCES crm_customers (id) ON DELETE CASCADE,
    device_id TEXT,
    model TEXT,
    -- The order the customer's assets were listed in.
    ord INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX crm_assets_device ON crm_assets (device_id);
  CREATE INDEX crm_assets_customer ON crm_assets (customer_id, ord);
`;
