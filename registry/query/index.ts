export { runStoredQuery, storedQueryName, type StoredQueryOptions } from './run.js';
export { readParameters, QueryParameters, type ParamSpec, type ParamTable, type ParamType } from './parameters.js';
export { PARAMETER_TABLES, P as QUERY_PARAMETER } from './parameter-tables.js';
export { parseValue, ValueSyntaxError, type Scalar } from './value-syntax.js';
