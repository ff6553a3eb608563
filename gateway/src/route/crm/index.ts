// The CRM lookup's public surface (the route workflow, the CLI and the gateway import from here).
export type { Crm, CrmQuery, CrmResult, CustomerRecord, GeoPoint } from './crm.js';
export { readCsv, type CsvProblem, type CsvRecord } from './csv.js';
export { CSV_COLUMNS, parseCustomersCsv, type DirectoryCustomer } from './customers-csv.js';
export { DirectoryCrm, importCsvFile, type CsvImportResult, type ImportCounts } from './directory.js';
export { RestCrm, MAX_ANSWER_BYTES, type RestCrmConfig } from './rest.js';
export { CRM_FIELDS, mapCustomer } from './rest-mapping.js';
export { normalisePhone } from './normalise.js';
export { createCrm, type CrmDeps } from './create.js';
export { lookupCustomer, type LookupOptions } from './lookup.js';
