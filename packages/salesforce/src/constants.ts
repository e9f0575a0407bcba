/** Salesforce facts the provider is built on (providers-facts.md §2). */

/** The REST API version every connection speaks; jsforce's default (50.0) is too old for upsert collections (46+) and too old to trust. */
export const SALESFORCE_API_VERSION = "62.0";

/** Our client id in `Sforce-Call-Options: client=…`: Salesforce writes it into CDC `changeOrigin`, which is how we know our own writes. */
export const SALESFORCE_CLIENT_ID = "leadsync";

/** sObject Collections take at most 200 records per call; a `WHERE Id IN (…)` of 200 18-char ids stays far below the 16 KB URI cap. */
export const SALESFORCE_BATCH_SIZE = 200;

/** The Lead field that marks where a record originated. */
export const DEFAULT_MARKER_FIELD = "Lead_Source_System__c";

/** The CDC channel of Lead changes. */
export const LEAD_CHANGE_CHANNEL = "/data/LeadChangeEvent";
export const LEAD_CHANGE_EVENT = "LeadChangeEvent";

/** Salesforce's production login host; `env.apiBase` overrides it (a sandbox org's test.salesforce.com, My Domain, the emulator). */
export const DEFAULT_LOGIN_URL = "https://login.salesforce.com";

/**
 * Lead fields Salesforce requires. We fill them from the lead, else with this placeholder, which reads back as "no
 * value" (never copied into a lead) and is never written over a value a person entered.
 */
export const REQUIRED_LEAD_FIELDS = ["LastName", "Company"] as const;
export const PLACEHOLDER = "[not provided]";

/** Lead key prefix (00Q…) and Contact key prefix (003…): record ids say their object. */
export const LEAD_KEY_PREFIX = "00Q";
export const CONTACT_KEY_PREFIX = "003";
