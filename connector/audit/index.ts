/** connector/audit: audit events, their DICOM / FHIR forms, sinks, the durable queue and the patient access log. */
export * from './event';
export { toDicomXml, toDicomElement } from './dicom';
export { toFhirAuditEvent, type FhirResource } from './fhir';
export { formatSyslogMessage, octetCountedFrame, TlsSyslogSender, UdpSyslogSender, type SyslogSender } from './syslog';
export { openAuditStore, type AuditStore } from './store';
export { DurableAuditQueue, PermanentDeliveryError, type AuditSink } from './queue';
export { Auditor, type AuditorOptions } from './auditor';
export { accessLogRouter, type AccessEntry, type AccessLogResponse } from './access-log';
export { auditConfigSchema, createSyslogSender, type AuditConfig } from './config';
