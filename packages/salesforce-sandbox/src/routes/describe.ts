import type { FieldDef } from "../state/lead-fields.js";
import { KEY_PREFIX } from "../state/ids.js";
import type { SObjectName } from "../state/records.js";

const SOAP_TYPE: Record<FieldDef["type"], string> = {
  id: "tns:ID",
  reference: "tns:ID",
  string: "xsd:string",
  email: "xsd:string",
  phone: "xsd:string",
  picklist: "xsd:string",
  boolean: "xsd:boolean",
  datetime: "xsd:dateTime",
};

function fieldJson(def: FieldDef): Record<string, unknown> {
  return {
    name: def.name,
    label: def.label,
    type: def.type,
    soapType: SOAP_TYPE[def.type],
    length: def.length,
    nillable: def.nillable,
    createable: def.createable,
    updateable: def.updateable,
    custom: def.custom,
    externalId: def.externalId,
    unique: def.unique,
    idLookup: def.type === "id" || def.type === "email" || def.externalId,
    defaultedOnCreate: def.defaultedOnCreate,
    calculated: def.name === "Name",
    filterable: true,
    sortable: true,
    picklistValues: def.picklistValues ?? [],
    restrictedPicklist: def.restrictedPicklist ?? false,
    referenceTo: def.referenceTo ?? [],
    compoundFieldName: def.nameComponent ? "Name" : null,
  };
}

/** `GET /sobjects/{Lead|Contact}/describe`: the object's fields, custom ones (e.g. Lead_Source_System__c) once created. */
export function describeSObject(type: SObjectName, fields: FieldDef[], version: string): Record<string, unknown> {
  const base = `/services/data/v${version}/sobjects/${type}`;
  return {
    name: type,
    label: type,
    labelPlural: `${type}s`,
    keyPrefix: KEY_PREFIX[type],
    custom: false,
    createable: true,
    updateable: true,
    deletable: true,
    undeletable: true,
    queryable: true,
    retrieveable: true,
    searchable: true,
    replicateable: true,
    fields: fields.map(fieldJson),
    urls: { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}`, uiDetailTemplate: null },
  };
}

export function describeGlobal(version: string): Record<string, unknown> {
  const entry = (name: string, keyPrefix: string) => ({
    name,
    label: name,
    keyPrefix,
    custom: false,
    createable: true,
    queryable: true,
    urls: { sobject: `/services/data/v${version}/sobjects/${name}`, describe: `/services/data/v${version}/sobjects/${name}/describe` },
  });
  return { encoding: "UTF-8", maxBatchSize: 200, sobjects: [entry("Contact", "003"), entry("Lead", "00Q"), { ...entry("LeadChangeEvent", null as unknown as string), createable: false }] };
}
