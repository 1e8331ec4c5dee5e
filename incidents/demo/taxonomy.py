"""The demo taxonomy: custom roles, incident types per family and their playbooks.

Regulatory deadlines are the real ones where a regulation sets one, counted from
awareness: GDPR Art. 33 (72 h to the lead data-protection authority), NIS2 Art. 23
(24 h early warning to the CSIRT), card-brand rules under PCI DSS (72 h is the
strictest common window), SEC Form 8-K Item 1.05 (four business days, about 96 h,
after the materiality determination) and US CPSC §15(b) (24 h).
"""

from incidentops.groups import EXECUTIVES, INCIDENT_MANAGERS

SERVICE_OUTAGE = "service-outage"
SECURITY = "security-data-breach"
SUPPLY_CHAIN = "supply-chain-disruption"
COMPLIANCE = "compliance-event"

# slug, name, description, human_only
ROLES = [
    (
        "legal-liaison",
        "Legal liaison",
        "Counsel's contact in the response: privilege, regulator and contract "
        "questions, notification wording.",
        True,
    ),
    (
        "supplier-liaison",
        "Supplier liaison",
        "Owns the conversation with the affected supplier or carrier and keeps "
        "their commitments on the timeline.",
        False,
    ),
    (
        "security-lead",
        "Security lead",
        "Leads forensics and containment; decides what evidence is preserved.",
        True,
    ),
]

TYPES = [
    # --- service outage ---
    {
        "slug": "customer-facing-outage",
        "family": SERVICE_OUTAGE,
        "name": "Customer-facing service outage",
        "description": "A service customers use is unavailable or failing for a "
        "significant share of requests.",
        "keywords": "outage, down, unavailable, 502, 503, 5xx, http 500, "
        "site down, checkout failing, cannot log in",
        "default_severity": "SEV-1",
    },
    {
        "slug": "degraded-performance",
        "family": SERVICE_OUTAGE,
        "name": "Degraded performance",
        "description": "A service works but too slowly or with elevated errors; "
        "SLOs or SLAs at risk.",
        "keywords": "latency, slow, timeouts, p99, degraded, error rate, "
        "queue lag, consumer lag, throttling",
        "default_severity": "SEV-2",
    },
    {
        "slug": "infrastructure-failure",
        "family": SERVICE_OUTAGE,
        "name": "Infrastructure or platform failure",
        "description": "Databases, clusters, networks, DNS, certificates or a "
        "cloud region failing underneath the services.",
        "keywords": "database, replica, disk full, kubernetes, node pool, dns, "
        "certificate expired, load balancer, availability zone, failover",
        "default_severity": "SEV-2",
    },
    {
        "slug": "failed-change",
        "family": SERVICE_OUTAGE,
        "name": "Failed change or deployment",
        "description": "A release, configuration change, migration or feature "
        "flag broke something and needs a rollback or a fix forward.",
        "keywords": "deploy, deployment, release, rollback, config change, "
        "schema migration, feature flag, canary",
        "default_severity": "SEV-3",
    },
    # --- security and data breach ---
    {
        "slug": "personal-data-breach",
        "family": SECURITY,
        "name": "Personal-data breach",
        "description": "Personal data destroyed, lost, altered, disclosed or "
        "accessed without authorisation (GDPR Art. 4(12)).",
        "keywords": "personal data, data breach, pii, customer records, "
        "misdirected email, exposed bucket, gdpr, leaked",
        "default_severity": "SEV-1",
        "restricted": True,
        "groups": [INCIDENT_MANAGERS, EXECUTIVES],
        "deadline_hours": 72,
        "authority": "Lead data-protection authority (GDPR Art. 33)",
    },
    {
        "slug": "payment-card-compromise",
        "family": SECURITY,
        "name": "Payment-card data compromise",
        "description": "Cardholder data suspected or confirmed exposed: "
        "skimming, a compromised payment page or a leaked card file.",
        "keywords": "cardholder, card data, pan, skimming, magecart, pci, "
        "payment page script",
        "default_severity": "SEV-1",
        "restricted": True,
        "groups": [INCIDENT_MANAGERS, EXECUTIVES],
        "deadline_hours": 72,
        "authority": "Card brands via the acquiring bank (PCI DSS incident response)",
    },
    {
        "slug": "ransomware-malware",
        "family": SECURITY,
        "name": "Ransomware or malware",
        "description": "Malicious code on our estate; a significant incident under "
        "NIS2 needs an early warning within 24 hours.",
        "keywords": "ransomware, malware, encrypted files, edr alert, trojan, "
        "command and control, beacon, infostealer",
        "default_severity": "SEV-1",
        "deadline_hours": 24,
        "authority": "National CSIRT (NIS2 Art. 23 early warning)",
    },
    {
        "slug": "account-compromise",
        "family": SECURITY,
        "name": "Account compromise or phishing",
        "description": "Credentials or sessions of a staff, partner or service "
        "account in the wrong hands.",
        "keywords": "phishing, credential, mfa fatigue, compromised account, "
        "impossible travel, password spray, session token",
        "default_severity": "SEV-2",
    },
    {
        "slug": "insider-threat",
        "family": SECURITY,
        "name": "Insider threat",
        "description": "An employee or contractor misusing legitimate access. "
        "Handled discreetly with HR and legal.",
        "keywords": "insider, bulk download, usb, departing employee, "
        "unauthorised access by employee",
        "default_severity": "SEV-2",
        "restricted": True,
        "groups": [EXECUTIVES],
    },
    {
        "slug": "exploited-vulnerability",
        "family": SECURITY,
        "name": "Exploited vulnerability",
        "description": "A known or new vulnerability exploited, or exploitation "
        "attempts against exposed systems.",
        "keywords": "cve, exploit, zero-day, remote code execution, rce, "
        "vulnerability, webshell",
        "default_severity": "SEV-2",
    },
    # --- supply chain ---
    {
        "slug": "supplier-failure",
        "family": SUPPLY_CHAIN,
        "name": "Critical supplier failure",
        "description": "A supplier cannot deliver: insolvency, force majeure, "
        "their own outage or a quality stop.",
        "keywords": "supplier, insolvency, force majeure, single source, "
        "supplier outage, allocation notice",
        "default_severity": "SEV-2",
    },
    {
        "slug": "logistics-delay",
        "family": SUPPLY_CHAIN,
        "name": "Logistics and transport delay",
        "description": "Inbound or outbound freight late: carriers, ports, "
        "customs, strikes, weather.",
        "keywords": "shipment, delayed shipment, carrier, port congestion, "
        "strike, customs hold, container, vessel",
        "default_severity": "SEV-3",
    },
    {
        "slug": "inventory-shortage",
        "family": SUPPLY_CHAIN,
        "name": "Component or inventory shortage",
        "description": "Stock or components below what orders or production need.",
        "keywords": "shortage, stockout, out of stock, backorder, lead time, "
        "safety stock",
        "default_severity": "SEV-3",
    },
    {
        "slug": "site-disruption",
        "family": SUPPLY_CHAIN,
        "name": "Warehouse or site disruption",
        "description": "A distribution centre, plant or store cannot operate "
        "normally: power, fire, flood, systems, staffing.",
        "keywords": "warehouse, distribution centre, power cut, flood, "
        "fire alarm, evacuation, wms, conveyor",
        "default_severity": "SEV-2",
    },
    {
        "slug": "product-safety-recall",
        "family": SUPPLY_CHAIN,
        "name": "Product safety issue or recall",
        "description": "A product may harm people; reportable to product-safety "
        "authorities and possibly recalled.",
        "keywords": "recall, product safety, contamination, injury report, "
        "overheating, choking hazard, batch",
        "default_severity": "SEV-1",
        "deadline_hours": 24,
        "authority": "Product-safety authority (US CPSC §15(b); EU Safety Business Gateway under the GPSR)",
    },
    # --- compliance ---
    {
        "slug": "regulatory-reporting-failure",
        "family": COMPLIANCE,
        "name": "Missed or incorrect regulatory filing",
        "description": "A filing or regulatory report late, incomplete or wrong.",
        "keywords": "regulatory report, filing, submission deadline, "
        "reporting error, transaction reporting",
        "default_severity": "SEV-2",
    },
    {
        "slug": "material-cyber-disclosure",
        "family": COMPLIANCE,
        "name": "Material cybersecurity incident (SEC disclosure)",
        "description": "A cybersecurity incident assessed for materiality; once "
        "material, Form 8-K Item 1.05 is due within four business days.",
        "keywords": "materiality, 8-k, sec disclosure, material incident, "
        "disclosure committee",
        "default_severity": "SEV-1",
        "restricted": True,
        "groups": [INCIDENT_MANAGERS, EXECUTIVES],
        "deadline_hours": 96,
        "authority": "US SEC, Form 8-K Item 1.05 (four business days after the materiality determination)",
    },
    {
        "slug": "policy-violation",
        "family": COMPLIANCE,
        "name": "Internal policy or control deviation",
        "description": "A control did not operate or a policy was not followed: "
        "access reviews, segregation of duties, approvals, retention.",
        "keywords": "policy violation, access review, segregation of duties, "
        "unapproved, control failure, retention",
        "default_severity": "SEV-3",
    },
    {
        "slug": "hr-compliance",
        "family": COMPLIANCE,
        "name": "HR compliance matter",
        "description": "Harassment, discrimination, working-time or whistleblower "
        "matters. Need-to-know only.",
        "keywords": "harassment, discrimination, whistleblower, grievance, "
        "working time",
        "default_severity": "SEV-2",
        "restricted": True,
        "groups": [EXECUTIVES],
    },
]


# Steps: title, description, owning role slug, due after confirmation (minutes,
# None for no due date), priority.
PLAYBOOKS = [
    {
        "type": "customer-facing-outage",
        "severity": "SEV-1",
        "name": "Customer-facing outage: SEV-1 all hands",
        "guidance": "Restore service first, explain later. Open the bridge, stop "
        "changes, roll back anything deployed in the last two hours unless the "
        "operations lead rules it out. The status page goes up within 15 minutes "
        "and is updated every 30.",
        "roles": ["commander", "communications", "operations", "scribe"],
        "steps": [
            (
                "Open the incident bridge and page the on-call owners",
                "Video bridge link in the incident channel; page the service owner, the platform on-call and the database on-call.",
                "commander",
                5,
                "high",
            ),
            (
                "Freeze deployments and configuration changes",
                "Announce the freeze in #deploys and block the pipeline until the commander lifts it.",
                "operations",
                10,
                "high",
            ),
            (
                "Publish the first status-page notice",
                "Acknowledge impact, affected regions and the next update time. No speculation on cause.",
                "communications",
                15,
                "high",
            ),
            (
                "Roll back recent changes or fail over",
                "Check the change log for the last two hours; roll back or fail over to the healthy region.",
                "operations",
                30,
                "high",
            ),
            (
                "Brief the executive on duty",
                "Impact, customer count, revenue at risk, ETA confidence.",
                "communications",
                30,
                "medium",
            ),
            (
                "Confirm recovery against SLO dashboards",
                "Error rate and latency back inside SLO for 30 minutes before declaring recovery.",
                "operations",
                240,
                "medium",
            ),
            (
                "Capture the timeline for the review",
                "Make sure every decision and its time is on the timeline.",
                "scribe",
                480,
                "low",
            ),
        ],
    },
    {
        "type": "customer-facing-outage",
        "severity": None,
        "name": "Customer-facing outage",
        "guidance": "Confirm scope from the dashboards, decide between rollback and "
        "fix forward within 30 minutes, keep the status page current.",
        "roles": ["commander", "operations"],
        "steps": [
            (
                "Confirm scope and affected customers",
                "Which endpoints, regions and customer segments; how many requests fail.",
                "operations",
                15,
                "high",
            ),
            (
                "Post a status-page notice",
                "Short acknowledgement with the next update time.",
                "communications",
                30,
                "medium",
            ),
            (
                "Decide rollback or fix forward",
                "Record the decision and why on the timeline.",
                "commander",
                30,
                "high",
            ),
            (
                "Verify recovery and close the status notice",
                "Error budget burn back to normal; resolve the notice.",
                "operations",
                240,
                "medium",
            ),
        ],
    },
    {
        "type": "degraded-performance",
        "severity": None,
        "name": "Degraded performance",
        "guidance": "Find the saturated resource before touching anything. Shed "
        "non-critical load (batch jobs, exports) before scaling blindly.",
        "roles": ["commander", "operations"],
        "steps": [
            (
                "Identify the saturated resource",
                "CPU, connections, locks, queue depth, downstream latency: attach the graph.",
                "operations",
                20,
                "high",
            ),
            (
                "Pause non-critical batch and export jobs",
                "Free capacity for customer traffic.",
                "operations",
                30,
                "medium",
            ),
            (
                "Scale out or throttle the noisy consumer",
                "Record the capacity change so it can be reverted.",
                "operations",
                60,
                "medium",
            ),
            (
                "Tell affected internal teams",
                "Customer support and account managers get the workaround.",
                "communications",
                60,
                "medium",
            ),
            (
                "Check SLA exposure for enterprise customers",
                "List contracts whose monthly SLA is at risk.",
                "commander",
                1440,
                "low",
            ),
        ],
    },
    {
        "type": "infrastructure-failure",
        "severity": None,
        "name": "Infrastructure or platform failure",
        "guidance": "Protect data before availability: no forced failover of a "
        "primary database without confirming replication lag. Prefer the runbook "
        "for the component.",
        "roles": ["commander", "operations"],
        "steps": [
            (
                "Confirm the failing component and blast radius",
                "Which services depend on it; which are already degraded.",
                "operations",
                15,
                "high",
            ),
            (
                "Check replication and backups before failover",
                "Replication lag and last good backup recorded on the timeline.",
                "operations",
                30,
                "high",
            ),
            (
                "Fail over or replace the component",
                "Follow the component runbook; note deviations.",
                "operations",
                60,
                "high",
            ),
            (
                "Notify dependent service owners",
                "Post in #service-owners with expected impact.",
                "communications",
                45,
                "medium",
            ),
            (
                "Open a capacity or resilience follow-up",
                "Why did redundancy not absorb it?",
                "commander",
                2880,
                "low",
            ),
        ],
    },
    {
        "type": "failed-change",
        "severity": None,
        "name": "Failed change or deployment",
        "guidance": "Roll back first when the change is reversible. Schema migrations "
        "are not: involve the owning team before reverting one.",
        "roles": ["commander"],
        "steps": [
            (
                "Identify the change and its owner",
                "Link the pipeline run, the pull request and the change ticket.",
                "commander",
                10,
                "high",
            ),
            (
                "Roll back or disable the feature flag",
                "If the change cannot be reversed, agree the fix forward.",
                "operations",
                30,
                "high",
            ),
            (
                "Verify the rollback on production",
                "Smoke tests and the error dashboard.",
                "operations",
                60,
                "medium",
            ),
            (
                "Block the release until a fix is reviewed",
                "Mark the release as failed in the pipeline.",
                "commander",
                120,
                "low",
            ),
        ],
    },
    {
        "type": "personal-data-breach",
        "severity": "SEV-1",
        "name": "Personal-data breach: SEV-1 (regulator clock running)",
        "guidance": "The 72-hour GDPR Art. 33 clock started when we became aware. "
        "Contain, preserve evidence, and involve the DPO and legal within the first "
        "hour. Keep the incident restricted; communicate only through the "
        "communications lead and legal liaison.",
        "roles": [
            "commander",
            "communications",
            "legal-liaison",
            "security-lead",
            "scribe",
        ],
        "steps": [
            (
                "Contain the exposure",
                "Revoke access, close the bucket or share, recall the message; record exactly what and when.",
                "security-lead",
                30,
                "high",
            ),
            (
                "Preserve evidence",
                "Snapshot logs and affected systems before any clean-up; note chain of custody.",
                "security-lead",
                60,
                "high",
            ),
            (
                "Inform the DPO and legal",
                "DPO and counsel join the bridge; privilege instructions on the timeline.",
                "legal-liaison",
                60,
                "high",
            ),
            (
                "Establish data categories and number of data subjects",
                "Which fields, how many people, which countries.",
                "security-lead",
                720,
                "high",
            ),
            (
                "Assess risk to individuals",
                "Likelihood and severity of harm; decides Art. 34 communication to data subjects.",
                "legal-liaison",
                1440,
                "high",
            ),
            (
                "Notify the lead supervisory authority",
                "Art. 33 notification, phased if facts are still incomplete. Due within 72 hours of awareness.",
                "legal-liaison",
                4320,
                "high",
            ),
            (
                "Prepare data-subject communication if required",
                "Plain-language notice, FAQ for support, mailbox for questions.",
                "communications",
                4320,
                "medium",
            ),
            (
                "Record the breach in the breach register",
                "Art. 33(5): facts, effects, remedial action, even if not notified.",
                "scribe",
                10080,
                "medium",
            ),
        ],
    },
    {
        "type": "personal-data-breach",
        "severity": None,
        "name": "Personal-data breach",
        "guidance": "Every personal-data breach is recorded, even when it is "
        "unlikely to result in a risk and therefore not notified. Decide and "
        "document the notification question within 72 hours.",
        "roles": ["commander", "legal-liaison"],
        "steps": [
            (
                "Contain and confirm what was exposed",
                "Which records, which fields, to whom.",
                "commander",
                60,
                "high",
            ),
            (
                "Ask the recipient to delete and confirm",
                "For misdirected mail or files: written confirmation of deletion.",
                "commander",
                240,
                "medium",
            ),
            (
                "Document the notification decision",
                "Risk assessment and the reason for notifying or not.",
                "legal-liaison",
                4320,
                "high",
            ),
            (
                "Record the breach in the breach register",
                "Facts, effects, remedial action.",
                "scribe",
                10080,
                "medium",
            ),
        ],
    },
    {
        "type": "payment-card-compromise",
        "severity": None,
        "name": "Payment-card data compromise",
        "guidance": "Do not wipe or rebuild affected systems before forensics: the "
        "card brands may require a PCI Forensic Investigator. Tell the acquirer "
        "promptly; brand rules set 72 hours or less.",
        "roles": ["commander", "security-lead", "legal-liaison"],
        "steps": [
            (
                "Isolate the affected payment flow",
                "Disable the compromised page, terminal or integration; switch to the hosted payment page.",
                "security-lead",
                30,
                "high",
            ),
            (
                "Preserve forensic evidence",
                "Images and logs preserved; no rebuilds yet.",
                "security-lead",
                120,
                "high",
            ),
            (
                "Notify the acquiring bank",
                "The acquirer informs the card brands; record the reference.",
                "legal-liaison",
                1440,
                "high",
            ),
            (
                "Engage a PCI Forensic Investigator if required",
                "Per brand instructions.",
                "legal-liaison",
                4320,
                "medium",
            ),
            (
                "Identify the window and cards at risk",
                "First and last compromised transaction; PAN list to the acquirer only.",
                "security-lead",
                2880,
                "high",
            ),
        ],
    },
    {
        "type": "ransomware-malware",
        "severity": "SEV-1",
        "name": "Ransomware: SEV-1",
        "guidance": "Isolate before you investigate. Do not power off encrypted "
        "hosts (memory evidence); disconnect them. NIS2: early warning to the CSIRT "
        "within 24 hours of awareness, notification within 72 hours. No contact with "
        "the attacker without legal.",
        "roles": [
            "commander",
            "security-lead",
            "communications",
            "legal-liaison",
            "operations",
        ],
        "steps": [
            (
                "Isolate affected hosts and segments",
                "EDR network containment; block the C2 indicators at the firewall.",
                "security-lead",
                15,
                "high",
            ),
            (
                "Disable compromised accounts and rotate privileged credentials",
                "Domain admin and service accounts first.",
                "security-lead",
                60,
                "high",
            ),
            (
                "Verify offline backups are intact",
                "Check the immutable copies before any restore decision.",
                "operations",
                120,
                "high",
            ),
            (
                "Send the NIS2 early warning to the CSIRT",
                "Within 24 hours: suspected malicious act, possible cross-border impact.",
                "legal-liaison",
                1440,
                "high",
            ),
            (
                "Brief staff: what to do and not do",
                "No personal devices, no reconnection of isolated machines.",
                "communications",
                120,
                "medium",
            ),
            (
                "Restore priority services from clean backups",
                "Order agreed with the business; scan restores before reconnecting.",
                "operations",
                2880,
                "medium",
            ),
        ],
    },
    {
        "type": "ransomware-malware",
        "severity": None,
        "name": "Malware on an endpoint or server",
        "guidance": "Contain the host, collect the sample and indicators, check for "
        "lateral movement, then reimage.",
        "roles": ["commander", "security-lead"],
        "steps": [
            (
                "Contain the host",
                "EDR isolation; note hostname and user.",
                "security-lead",
                15,
                "high",
            ),
            (
                "Collect the sample and indicators",
                "Hashes, domains, IPs into the threat-intel platform.",
                "security-lead",
                120,
                "medium",
            ),
            (
                "Hunt for the indicators across the estate",
                "EDR and proxy logs for the last 30 days.",
                "security-lead",
                480,
                "medium",
            ),
            (
                "Reimage and return the device",
                "After the hunt is clear.",
                "operations",
                1440,
                "low",
            ),
        ],
    },
    {
        "type": "account-compromise",
        "severity": None,
        "name": "Account compromise",
        "guidance": "Kill sessions and reset credentials first; then find out what "
        "the account did while it was not in its owner's hands.",
        "roles": ["commander", "security-lead"],
        "steps": [
            (
                "Revoke sessions and reset credentials",
                "Include refresh tokens, app passwords and API keys.",
                "security-lead",
                15,
                "high",
            ),
            (
                "Re-enrol MFA with a phishing-resistant factor",
                "FIDO2 key or platform authenticator.",
                "security-lead",
                240,
                "medium",
            ),
            (
                "Review the account's activity during the window",
                "Mailbox rules, file access, OAuth grants, sent mail.",
                "security-lead",
                480,
                "high",
            ),
            (
                "Block the phishing infrastructure and purge copies",
                "Sender, URL and lookalike domain; purge from all mailboxes.",
                "security-lead",
                120,
                "medium",
            ),
            (
                "Decide whether personal data was accessed",
                "If yes, open a personal-data breach incident.",
                "commander",
                1440,
                "high",
            ),
        ],
    },
    {
        "type": "insider-threat",
        "severity": None,
        "name": "Insider threat",
        "guidance": "Need-to-know only. Legal and HR decide on any contact with the "
        "person. Preserve evidence quietly; do not tip off.",
        "roles": ["commander", "legal-liaison", "security-lead"],
        "steps": [
            (
                "Agree the handling plan with HR and legal",
                "Who knows, who talks to the person, what is preserved.",
                "legal-liaison",
                240,
                "high",
            ),
            (
                "Preserve evidence without alerting the person",
                "Mailbox hold, endpoint image, access logs.",
                "security-lead",
                480,
                "high",
            ),
            (
                "Restrict access proportionately",
                "Remove access to the affected systems when HR agrees.",
                "security-lead",
                1440,
                "medium",
            ),
            (
                "Assess data taken and its sensitivity",
                "Decide whether a personal-data breach must be opened.",
                "commander",
                2880,
                "high",
            ),
        ],
    },
    {
        "type": "exploited-vulnerability",
        "severity": None,
        "name": "Exploited vulnerability",
        "guidance": "Patch or mitigate exposed systems first, then look for signs that "
        "exploitation succeeded before the patch.",
        "roles": ["commander", "security-lead", "operations"],
        "steps": [
            (
                "List exposed systems and versions",
                "From the asset inventory and an external scan.",
                "security-lead",
                60,
                "high",
            ),
            (
                "Apply the patch or vendor mitigation",
                "WAF rule as a stop-gap where patching needs a window.",
                "operations",
                240,
                "high",
            ),
            (
                "Hunt for exploitation indicators",
                "Webshells, new admin accounts, unusual outbound traffic.",
                "security-lead",
                480,
                "high",
            ),
            (
                "Confirm remediation with a rescan",
                "Attach the scan result.",
                "security-lead",
                1440,
                "medium",
            ),
        ],
    },
    {
        "type": "supplier-failure",
        "severity": "SEV-1",
        "name": "Critical supplier failure: SEV-1",
        "guidance": "Secure supply for the top revenue lines first. Daily call with "
        "the supplier's leadership; every commitment they make goes on the "
        "timeline with a date.",
        "roles": ["commander", "supplier-liaison", "communications", "operations"],
        "steps": [
            (
                "Get a written statement from the supplier",
                "Scope, cause, expected duration, what stock is in transit.",
                "supplier-liaison",
                240,
                "high",
            ),
            (
                "Calculate stock cover per affected SKU",
                "Days of cover at current demand, by site.",
                "operations",
                480,
                "high",
            ),
            (
                "Activate the alternate supplier",
                "Trigger the qualified second source; expedite samples if not qualified.",
                "supplier-liaison",
                1440,
                "high",
            ),
            (
                "Allocate constrained stock to priority customers",
                "Agree the allocation rule with sales.",
                "commander",
                1440,
                "high",
            ),
            (
                "Inform key accounts about expected delays",
                "Script reviewed by the commander.",
                "communications",
                1440,
                "medium",
            ),
            (
                "Check contractual remedies and insurance",
                "Force-majeure clause, penalties, contingent business interruption cover.",
                "legal-liaison",
                4320,
                "low",
            ),
        ],
    },
    {
        "type": "supplier-failure",
        "severity": None,
        "name": "Supplier failure",
        "guidance": "Quantify cover, talk to the supplier, decide on alternatives "
        "before the cover runs out.",
        "roles": ["commander", "supplier-liaison"],
        "steps": [
            (
                "Confirm the situation with the supplier",
                "Written confirmation and an expected recovery date.",
                "supplier-liaison",
                480,
                "high",
            ),
            (
                "Calculate stock cover",
                "Days of cover per affected SKU.",
                "operations",
                720,
                "medium",
            ),
            (
                "Decide on the alternate source",
                "Second source, spot buy or substitution.",
                "commander",
                2880,
                "medium",
            ),
            (
                "Update the supplier risk rating",
                "Procurement's supplier record.",
                "supplier-liaison",
                10080,
                "low",
            ),
        ],
    },
    {
        "type": "logistics-delay",
        "severity": None,
        "name": "Logistics and transport delay",
        "guidance": "Know which orders are on the delayed freight before choosing "
        "between waiting, rerouting and expediting.",
        "roles": ["commander", "supplier-liaison"],
        "steps": [
            (
                "Get the carrier's revised ETA",
                "In writing, per consignment.",
                "supplier-liaison",
                240,
                "high",
            ),
            (
                "List affected customer orders",
                "Orders whose promised date slips.",
                "operations",
                480,
                "medium",
            ),
            (
                "Decide reroute or expedite",
                "Cost against service impact; record the choice.",
                "commander",
                720,
                "medium",
            ),
            (
                "Tell customer service which orders slip",
                "With new promise dates.",
                "communications",
                720,
                "medium",
            ),
            (
                "Claim delay compensation where the contract allows",
                "",
                "supplier-liaison",
                20160,
                "low",
            ),
        ],
    },
    {
        "type": "inventory-shortage",
        "severity": None,
        "name": "Component or inventory shortage",
        "guidance": "Protect committed orders, then rebalance stock between sites, "
        "then buy.",
        "roles": ["commander", "operations"],
        "steps": [
            (
                "Confirm the shortfall per SKU and site",
                "Physical count where the system figure is doubtful.",
                "operations",
                240,
                "high",
            ),
            (
                "Rebalance stock between sites",
                "Transfer orders from sites with excess cover.",
                "operations",
                720,
                "medium",
            ),
            (
                "Expedite open purchase orders",
                "Ask suppliers for partial early shipments.",
                "supplier-liaison",
                1440,
                "medium",
            ),
            (
                "Adjust safety stock parameters",
                "If demand or lead time changed for good.",
                "operations",
                10080,
                "low",
            ),
        ],
    },
    {
        "type": "site-disruption",
        "severity": None,
        "name": "Warehouse or site disruption",
        "guidance": "People first: confirm everyone is safe before talking about "
        "throughput. Then move volume to the nearest site that can take it.",
        "roles": ["commander", "operations", "communications"],
        "steps": [
            (
                "Confirm all staff are safe and accounted for",
                "Site manager confirms the roll call.",
                "commander",
                15,
                "high",
            ),
            (
                "Assess the site's capacity and expected downtime",
                "What works, what does not, for how long.",
                "operations",
                120,
                "high",
            ),
            (
                "Divert inbound and outbound volume",
                "Nearest site with capacity; tell the carriers.",
                "operations",
                240,
                "high",
            ),
            (
                "Tell customer service and key accounts",
                "Which deliveries are affected.",
                "communications",
                240,
                "medium",
            ),
            (
                "Plan the restart with health and safety",
                "Checks before people go back in.",
                "commander",
                1440,
                "medium",
            ),
        ],
    },
    {
        "type": "product-safety-recall",
        "severity": "SEV-1",
        "name": "Product safety: SEV-1 (possible recall)",
        "guidance": "When a product may cause serious harm, stop sale immediately and "
        "report: the CPSC expects a §15(b) report within 24 hours of reportable "
        "information; in the EU, notify through the Safety Business Gateway without "
        "undue delay.",
        "roles": [
            "commander",
            "legal-liaison",
            "communications",
            "supplier-liaison",
            "operations",
        ],
        "steps": [
            (
                "Stop sale and quarantine affected batches",
                "Block the SKUs in all channels; quarantine stock at every site.",
                "operations",
                60,
                "high",
            ),
            (
                "Identify affected batches and units sold",
                "Batch numbers, production dates, units per market.",
                "supplier-liaison",
                480,
                "high",
            ),
            (
                "Report to product-safety authorities",
                "CPSC §15(b) within 24 hours; EU Safety Business Gateway.",
                "legal-liaison",
                1440,
                "high",
            ),
            (
                "Decide on recall scope with the manufacturer",
                "Recall, repair or replace; costs and logistics.",
                "commander",
                2880,
                "high",
            ),
            (
                "Publish the recall notice and customer instructions",
                "Website, stores, direct contact where we have it.",
                "communications",
                4320,
                "high",
            ),
            (
                "Set up reverse logistics for returned units",
                "Collection, storage and destruction records.",
                "operations",
                4320,
                "medium",
            ),
        ],
    },
    {
        "type": "product-safety-recall",
        "severity": None,
        "name": "Product quality or safety issue",
        "guidance": "Gather reports and samples; decide within a day whether it is a "
        "safety issue that needs the SEV-1 route.",
        "roles": ["commander", "supplier-liaison"],
        "steps": [
            (
                "Collect reports and samples",
                "Customer reports, returned units, photos.",
                "supplier-liaison",
                480,
                "high",
            ),
            (
                "Ask the manufacturer for a root-cause analysis",
                "8D report requested.",
                "supplier-liaison",
                1440,
                "medium",
            ),
            (
                "Decide whether it is a safety issue",
                "If yes, raise to SEV-1.",
                "commander",
                1440,
                "high",
            ),
            (
                "Hold affected stock pending the decision",
                "",
                "operations",
                240,
                "medium",
            ),
        ],
    },
    {
        "type": "regulatory-reporting-failure",
        "severity": None,
        "name": "Missed or incorrect regulatory filing",
        "guidance": "Tell the regulator before they find out: a prompt, accurate "
        "self-report with a remediation plan is treated far better than silence.",
        "roles": ["commander", "legal-liaison"],
        "steps": [
            (
                "Establish which reports are affected and since when",
                "Report type, periods, number of records.",
                "commander",
                480,
                "high",
            ),
            (
                "Decide on self-reporting to the regulator",
                "Compliance and legal agree wording and timing.",
                "legal-liaison",
                1440,
                "high",
            ),
            (
                "Correct and resubmit the affected reports",
                "Keep the evidence of what was resubmitted.",
                "operations",
                7200,
                "medium",
            ),
            (
                "Add a control that would have caught it",
                "Reconciliation, completeness check or four-eyes review.",
                "commander",
                20160,
                "low",
            ),
        ],
    },
    {
        "type": "material-cyber-disclosure",
        "severity": None,
        "name": "Materiality assessment and SEC disclosure",
        "guidance": "The disclosure committee assesses materiality without "
        "unreasonable delay. Once material, Form 8-K Item 1.05 is due within four "
        "business days. Keep the incident restricted; trading-window rules apply.",
        "roles": ["commander", "legal-liaison", "communications"],
        "steps": [
            (
                "Convene the disclosure committee",
                "General counsel, CFO, CISO, head of investor relations.",
                "legal-liaison",
                1440,
                "high",
            ),
            (
                "Document the materiality determination",
                "Quantitative and qualitative factors, and the date.",
                "legal-liaison",
                2880,
                "high",
            ),
            (
                "Close the trading window for insiders",
                "Until the disclosure is made.",
                "legal-liaison",
                1440,
                "high",
            ),
            (
                "Draft and file Form 8-K Item 1.05",
                "Within four business days of the determination.",
                "legal-liaison",
                5760,
                "high",
            ),
            (
                "Align investor and customer messaging",
                "Consistent with the filing.",
                "communications",
                5760,
                "medium",
            ),
        ],
    },
    {
        "type": "policy-violation",
        "severity": None,
        "name": "Internal policy or control deviation",
        "guidance": "Fix the instance, then ask why the control did not catch it.",
        "roles": ["commander"],
        "steps": [
            (
                "Confirm the deviation and its extent",
                "Sample other periods or systems for the same issue.",
                "commander",
                1440,
                "medium",
            ),
            (
                "Remediate the instance",
                "Remove the access, obtain the approval, restore the record.",
                "operations",
                4320,
                "medium",
            ),
            (
                "Inform the control owner and internal audit",
                "",
                "commander",
                4320,
                "low",
            ),
            (
                "Agree a control improvement",
                "Automate the check where possible.",
                "commander",
                20160,
                "low",
            ),
        ],
    },
    {
        "type": "hr-compliance",
        "severity": None,
        "name": "HR compliance matter",
        "guidance": "Confidential. Protect the reporter from retaliation; follow the "
        "whistleblowing and grievance procedures; HR and legal lead any contact.",
        "roles": ["commander", "legal-liaison"],
        "steps": [
            (
                "Acknowledge the report to the reporter",
                "Within 7 days (EU Whistleblower Directive).",
                "commander",
                1440,
                "high",
            ),
            (
                "Appoint an independent investigator",
                "No reporting line to the people involved.",
                "legal-liaison",
                2880,
                "high",
            ),
            (
                "Put interim protective measures in place",
                "",
                "commander",
                2880,
                "medium",
            ),
            (
                "Give the reporter feedback on follow-up",
                "Within 3 months of acknowledgement.",
                "commander",
                129600,
                "medium",
            ),
        ],
    },
]
