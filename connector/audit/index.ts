/** connector/audit: audit events, their DICOM / FHIR forms, sinks, the durable queue and the patient access log. */
export * from './event.js';
export { toDicomXml, toDicomElement } from './dicom.js';
export { toFhirAuditEvent, balpProfilesOf, fhirSystem, type FhirResource } from './fhir.js';
export { auditSyslogMessage, formatSyslogMessage, octetCountedFrame, TlsSyslogSender, UdpSyslogSender, type SyslogSender, type TlsSyslogStats } from './syslog.js';
export { openAuditStore, type AuditStore } from './store.js';
export { auditQueueMetrics, DurableAuditQueue, PermanentDeliveryError, type AuditSink, type QueueMetrics, type SinkMetrics } from './queue.js';
export { Auditor, type AuditorOptions } from './auditor.js';
export { accessLogRouter, type AccessEntry, type AccessLogResponse } from './access-log.js';
export { auditConfigSchema, createSyslogSender, type AuditConfig } from './config.js';
