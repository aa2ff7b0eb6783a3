"""The fields of a procedure's record, grouped as the CPAT characterization form groups them
(chile-norms.md §4.3). The edit form, the detail page, the API and the "Caracterización" sheet of the export
all follow this one list."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

SECTIONS: list[tuple[str, Promise, list[str]]] = [
    ("identification", _("Identification"), [
        "name", "code", "slug", "description", "kind", "topic", "unit", "responsible_position", "start_act",
        "end_act", "institutional_product",
    ]),
    ("legal", _("Legal framework"), ["law_number", "law_url", "other_legal_sources"]),
    ("users", _("Users"), [
        "who_can_apply", "user_type", "segment", "social_program", "availability", "has_payment", "cost",
        "requires_natural_person_identity", "citizens_affected",
    ]),
    ("process", _("Requirements, steps and deadlines"), [
        "requirements", "steps", "legal_deadline_days", "actual_deadline_days", "units_involved",
    ]),
    ("electronic", _("Electronic support"), [
        "digitalization_level", "digitalized_on", "channel_digital", "channel_in_person", "channel_phone",
        "case_file_type", "case_file_access", "online_url", "chileatiende_url", "platform_count", "platform_scope",
        "platform_name",
    ]),
    ("identity", _("Digital identity"), ["user_authentication", "staff_authentication", "advanced_signature"]),
    ("notifications", _("Notifications"), ["sends_notifications", "notification_stages", "notification_medium"]),
    ("data", _("Data, documents and interoperability"), [
        "requires_other_bodies_data", "data_directory_url", "service_catalogue_url", "requires_consent_manager",
        "data_obtention", "interoperability_medium", "data_provider", "data_set", "notarial_documents",
        "official_communications",
    ]),
    ("contact", _("Contact"), ["contact"]),
]

EDITABLE_FIELDS: list[str] = [name for _key, _title, names in SECTIONS for name in names]
FOREIGN_KEYS = ("topic", "unit")
