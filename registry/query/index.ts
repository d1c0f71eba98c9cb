export { runStoredQuery, storedQueryName, type StoredQueryOptions } from './run';
export { readParameters, QueryParameters, type ParamSpec, type ParamTable, type ParamType } from './parameters';
export { PARAMETER_TABLES, P as QUERY_PARAMETER } from './parameter-tables';
export { parseValue, ValueSyntaxError, type Scalar } from './value-syntax';
