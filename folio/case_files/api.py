"""REST API of the expediente electrónico (/api/v1/case-files/). Thin: parse, call a selector or service,
serialise. Errors follow folio.api.errors (400 invalid, 403 denied, 404 not found or not visible, 409 conflict)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.urls import path, re_path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from folio.case_files import archive, exports, selectors, services
from folio.case_files.models import (
    ActorRelation,
    ActorType,
    AuthorizedCopy,
    CaseFile,
    CaseFileState,
    CopyStatus,
    Origin,
    Party,
)
from folio.core.http import client_ip
from folio.files.services import file_open, read_upload
from folio.registry.api import UnitSerializer
from folio.registry.models import AccessLevel, DocumentType
from folio.verification.services import verification_url


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "gone"


class PartySerializer(serializers.ModelSerializer):
    rut = serializers.CharField(read_only=True)

    class Meta:
        model = Party
        fields = ["id", "relation", "actor_type", "rut", "name"]


class CaseFileListSerializer(serializers.ModelSerializer):
    unit = UnitSerializer(read_only=True)

    class Meta:
        model = CaseFile
        fields = ["id", "iuie", "title", "subject", "state", "unit", "access_level", "sensitive_data",
                  "procedure_code", "created_at", "closed_at", "version"]


class CaseFileDetailSerializer(CaseFileListSerializer):
    parties = PartySerializer(many=True, read_only=True)
    origin_registration_folio = serializers.CharField(source="origin_registration.folio", default=None,
                                                      read_only=True)
    accumulated_into_iuie = serializers.CharField(source="accumulated_into.iuie", default=None, read_only=True)
    uri = serializers.CharField(read_only=True)
    allowed_actions = serializers.SerializerMethodField()

    class Meta(CaseFileListSerializer.Meta):
        fields = [*CaseFileListSerializer.Meta.fields, "summary", "procedure_name", "series_code", "archival_phase",
                  "suspended_at", "suspension_reason", "closing_note", "index_hash", "origin_registration_folio",
                  "accumulated_into_iuie", "uri", "parties", "allowed_actions"]

    def get_allowed_actions(self, obj: CaseFile) -> list[str]:
        return sorted(services.allowed_actions(obj))


class PartyInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    rut = serializers.CharField(required=False, allow_blank=True, default="", max_length=15)
    relation = serializers.ChoiceField(choices=ActorRelation.choices, default=ActorRelation.INTERESTED)
    actor_type = serializers.ChoiceField(choices=ActorType.choices, default=ActorType.CITIZEN)
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class CaseFileInSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    subject = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    procedure_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    procedure_name = serializers.CharField(max_length=250, required=False, allow_blank=True, default="")
    series_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    unit_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    access_level = serializers.ChoiceField(choices=AccessLevel.choices, default=AccessLevel.PUBLIC)
    sensitive_data = serializers.BooleanField(default=False)
    registration_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    parties = PartyInSerializer(many=True, required=False, default=list)


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="entry.id")
    position = serializers.IntegerField(source="entry.position")
    identifier = serializers.CharField(source="entry.identifier")
    title = serializers.SerializerMethodField()  # type: ignore[assignment]
    document_type = serializers.IntegerField(source="entry.document_type")
    incorporated_at = serializers.DateTimeField(source="entry.incorporated_at")
    sha256 = serializers.CharField(source="entry.sha256")
    pages = serializers.IntegerField(source="entry.pages")
    first_page = serializers.IntegerField(source="entry.first_page")
    last_page = serializers.IntegerField(source="entry.last_page")
    access_level = serializers.IntegerField(source="entry.access_level")
    sensitive_data = serializers.BooleanField(source="entry.sensitive_data")
    source = serializers.CharField(source="entry.source")  # type: ignore[assignment]
    paper = serializers.BooleanField(source="entry.is_paper")
    redacted = serializers.BooleanField()
    can_open = serializers.BooleanField()

    def get_title(self, obj: selectors.EntryView) -> str:
        return _("Restricted document") if obj.redacted else obj.entry.title

    def to_representation(self, instance: selectors.EntryView) -> dict[str, Any]:
        """The same output as the fields above (which stay for the schema), without DRF's per-field
        machinery: the index of a large expediente has thousands of entries."""
        e = instance.entry
        return {"id": e.pk, "position": e.position, "identifier": e.identifier, "title": self.get_title(instance),
                "document_type": e.document_type,
                "incorporated_at": self.fields["incorporated_at"].to_representation(e.incorporated_at),
                "sha256": e.sha256, "pages": e.pages, "first_page": e.first_page, "last_page": e.last_page,
                "access_level": e.access_level, "sensitive_data": e.sensitive_data, "source": e.source,
                "paper": e.is_paper, "redacted": instance.redacted, "can_open": instance.can_open}


class EntryInSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=500)
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    access_level = serializers.ChoiceField(choices=AccessLevel.choices, required=False, allow_null=True,
                                           default=None)
    sensitive_data = serializers.BooleanField(default=False)
    keywords = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    origin = serializers.ChoiceField(choices=Origin.choices, required=False, allow_null=True, default=None)
    version_of_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class UploadInSerializer(EntryInSerializer):
    file = serializers.FileField()


class PaperInSerializer(EntryInSerializer):
    description = serializers.CharField()
    physical_location = serializers.CharField(max_length=250)
    pages = serializers.IntegerField(min_value=1)


class IncorporateRegistrationInSerializer(serializers.Serializer):
    registration_id = serializers.IntegerField()
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class TransferInSerializer(serializers.Serializer):
    unit_id = serializers.IntegerField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class TransitionInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                   help_text="Required (at least 5 characters) to suspend and to reopen.")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class RelateInSerializer(serializers.Serializer):
    other_id = serializers.IntegerField()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class EventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    action = serializers.CharField()
    data = serializers.JSONField()  # type: ignore[assignment]
    ip = serializers.CharField(allow_null=True)


def _get(request: Request, pk: int, what: str) -> CaseFile:
    cf = selectors.case_file_get(request.user, pk)
    if cf is None:
        services.case_file_record_denial(actor=request.user, case_file_id=pk, what=f"api:{what}",
                                         ip=client_ip(request))
        raise Http404
    return cf


def _detail(request: Request, pk: int) -> dict[str, Any]:
    cf = selectors.case_file_get(request.user, pk)
    assert cf is not None
    return CaseFileDetailSerializer(cf).data  # type: ignore[return-value]


def _entry_input(d: dict[str, Any], **extra: Any) -> services.EntryInput:
    return services.EntryInput(
        title=d["title"], document_type=int(d["document_type"]),
        access_level=int(d["access_level"]) if d["access_level"] is not None else None,
        sensitive_data=d["sensitive_data"], keywords=d["keywords"],
        origin=int(d["origin"]) if d["origin"] is not None else None, version_of_id=d["version_of_id"], **extra)


class CaseFileListView(APIView):
    @extend_schema(
        summary="Expedientes the user may see", operation_id="case_files_list",
        parameters=[OpenApiParameter("q", str, required=False),
                    OpenApiParameter("state", str, required=False, enum=CaseFileState.values),
                    OpenApiParameter("mine", bool, required=False),
                    OpenApiParameter("page", int, required=False)],
        responses=inline_serializer("CaseFilePage", {
            "count": serializers.IntegerField(), "page": serializers.IntegerField(),
            "results": CaseFileListSerializer(many=True)}),
    )
    def get(self, request: Request) -> Response:
        p = request.query_params
        state = p.get("state", "")
        if state and state not in CaseFileState.values:
            raise serializers.ValidationError({"state": [", ".join(CaseFileState.values)]})
        page_raw = p.get("page", "1") or "1"
        if not page_raw.isdigit() or int(page_raw) < 1:
            raise serializers.ValidationError({"page": ["integer ≥ 1"]})
        page, size = int(page_raw), 50
        qs = selectors.case_file_search(request.user, selectors.CaseFileFilters(
            q=p.get("q", ""), state=state, mine=p.get("mine") in ("1", "true")))
        results = qs[(page - 1) * size: page * size]
        return Response({"count": qs.count(), "page": page,
                         "results": CaseFileListSerializer(results, many=True).data})

    @extend_schema(operation_id="case_files_open",
                   summary="Open an expediente (optionally from a registration)", request=CaseFileInSerializer,
                   responses={201: CaseFileDetailSerializer})
    def post(self, request: Request) -> Response:
        ser = CaseFileInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        data = services.CaseFileInput(
            title=d["title"], subject=d["subject"], summary=d["summary"], procedure_code=d["procedure_code"],
            procedure_name=d["procedure_name"], series_code=d["series_code"], unit_id=d["unit_id"],
            access_level=int(d["access_level"]), sensitive_data=d["sensitive_data"],
            parties=[services.PartyInput(name=p["name"], rut=p["rut"], relation=int(p["relation"]),
                                         actor_type=int(p["actor_type"]), email=p["email"]) for p in d["parties"]],
        )
        cf = services.case_file_open(actor=request.user, data=data, registration_id=d["registration_id"],
                                     ip=client_ip(request))
        return Response(_detail(request, cf.pk), status=status.HTTP_201_CREATED)


class CaseFileDetailView(APIView):
    @extend_schema(operation_id="case_files_retrieve",
                   summary="An expediente", responses=CaseFileDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "detail")
        services.case_file_access_record(actor=request.user, case_file=cf, what="api:detail", ip=client_ip(request))
        return Response(CaseFileDetailSerializer(cf).data)


class IndexView(APIView):
    @extend_schema(operation_id="case_files_index",
                   summary="The electronic index (JSON)", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "index")
        services.case_file_access_record(actor=request.user, case_file=cf, what="api:index", ip=client_ip(request))
        return Response(exports.index_as_dict(cf, selectors.index_entries_for(request.user, cf)))


class IndexXmlView(APIView):
    @extend_schema(operation_id="case_files_index_xml",
                   summary="The electronic index (XML)",
                   responses={(200, "application/xml"): OpenApiResponse(OpenApiTypes.STR)})
    def get(self, request: Request, pk: int) -> HttpResponse:
        cf = _get(request, pk, "index.xml")
        services.case_file_access_record(actor=request.user, case_file=cf, what="api:index.xml",
                                         ip=client_ip(request))
        return HttpResponse(exports.index_as_xml(cf, selectors.index_entries_for(request.user, cf)),
                            content_type="application/xml; charset=utf-8")


class MetadataView(APIView):
    @extend_schema(operation_id="case_files_metadata",
                   summary="DS 10 metadata of the expediente and its documents (MGDEE…/MGDDE… codes)",
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "metadata")
        services.case_file_access_record(actor=request.user, case_file=cf, what="api:metadata",
                                         ip=client_ip(request))
        views = selectors.index_entries_for(request.user, cf)
        return Response(exports.case_file_metadata(cf, views, parties=list(cf.parties.all()),
                                                   links=selectors.case_file_links(cf)))


class EntriesView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="case_files_entries_list",
                   summary="Index entries as the user sees them", responses=EntrySerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "entries")
        return Response(EntrySerializer(selectors.index_entries_for(request.user, cf), many=True).data)

    @extend_schema(operation_id="case_files_incorporate_upload",
                   summary="Incorporate an uploaded document", request=UploadInSerializer,
                   responses={201: EntrySerializer})
    def post(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "incorporate")
        ser = UploadInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        entry = services.incorporate_upload(actor=request.user, case_file=cf, name=d["file"].name,
                                            data=read_upload(d["file"]), entry=_entry_input(d),
                                            expected_version=d["version"], ip=client_ip(request))
        view = selectors.index_entry_get(request.user, cf, entry.pk)
        return Response(EntrySerializer(view).data, status=status.HTTP_201_CREATED)


class PaperEntryView(APIView):
    @extend_schema(operation_id="case_files_incorporate_paper",
                   summary="Incorporate a paper item (hybrid expediente)", request=PaperInSerializer,
                   responses={201: EntrySerializer})
    def post(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "incorporate")
        ser = PaperInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        entry = services.incorporate_paper_item(
            actor=request.user, case_file=cf, expected_version=d["version"], ip=client_ip(request),
            entry=_entry_input(d, description=d["description"], physical_location=d["physical_location"],
                               pages=d["pages"]))
        return Response(EntrySerializer(selectors.index_entry_get(request.user, cf, entry.pk)).data,
                        status=status.HTTP_201_CREATED)


class RegistrationEntryView(APIView):
    @extend_schema(operation_id="case_files_incorporate_registration",
                   summary="Incorporate a registration of the Oficina de Partes and its attachments",
                   request=IncorporateRegistrationInSerializer, responses={201: EntrySerializer(many=True)})
    def post(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "incorporate")
        ser = IncorporateRegistrationInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        entries = services.incorporate_registration(
            actor=request.user, case_file=cf, registration_id=ser.validated_data["registration_id"],
            expected_version=ser.validated_data["version"], ip=client_ip(request))
        views = [selectors.index_entry_get(request.user, cf, e.pk) for e in entries]
        return Response(EntrySerializer(views, many=True).data, status=status.HTTP_201_CREATED)


class EntryFileView(APIView):
    @extend_schema(operation_id="case_files_entry_file",
                   summary="The content of one document (access to restricted ones is logged)",
                   responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request: Request, pk: int, entry_id: int) -> FileResponse:
        cf = _get(request, pk, f"document:{entry_id}")
        view = selectors.index_entry_get(request.user, cf, entry_id)
        if view is None or view.entry.file is None:
            raise Http404
        if not view.can_open:
            services.case_file_record_denial(actor=request.user, case_file_id=cf.pk,
                                             what=f"api:document:{view.entry.position}", ip=client_ip(request))
            raise PermissionDenied(_("You may not read this document."))
        if view.entry.file.purged_at is not None:
            raise Gone(_("This document was eliminated under a final disposition (%(ref)s); its index entry "
                         "and SHA-256 remain.") % {"ref": view.entry.file.purge_reference})
        services.case_file_access_record(actor=request.user, case_file=cf, entry=view.entry, what="api:download",
                                         ip=client_ip(request))
        return FileResponse(file_open(view.entry.file), content_type=view.entry.file.content_type,
                            filename=view.entry.file.original_name)


class TransferView(APIView):
    @extend_schema(operation_id="case_files_transfer",
                   summary="Transfer to another unit", request=TransferInSerializer,
                   responses=CaseFileDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "transfer")
        ser = TransferInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        services.case_file_transfer(actor=request.user, case_file=cf, to_unit_id=d["unit_id"], note=d["note"],
                                    expected_version=d["version"], ip=client_ip(request))
        return Response(_detail(request, pk))


TRANSITIONS = {
    "suspend": lambda a, cf, d, ip: services.case_file_suspend(actor=a, case_file=cf, reason=d["reason"],
                                                               expected_version=d["version"], ip=ip),
    "resume": lambda a, cf, d, ip: services.case_file_resume(actor=a, case_file=cf, note=d["note"],
                                                             expected_version=d["version"], ip=ip),
    "close": lambda a, cf, d, ip: services.case_file_close(actor=a, case_file=cf, note=d["note"],
                                                           expected_version=d["version"], ip=ip),
    "reopen": lambda a, cf, d, ip: services.case_file_reopen(actor=a, case_file=cf, reason=d["reason"],
                                                             expected_version=d["version"], ip=ip),
    "archive": lambda a, cf, d, ip: services.case_file_archive(actor=a, case_file=cf,
                                                               expected_version=d["version"], ip=ip),
}


class TransitionView(APIView):
    @extend_schema(operation_id="case_files_transition",
                   summary="A state transition: suspend, resume, close, reopen or archive",
                   request=TransitionInSerializer, responses=CaseFileDetailSerializer)
    def post(self, request: Request, pk: str, action: str) -> Response:
        cf = _get(request, int(pk), action)
        ser = TransitionInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        TRANSITIONS[action](request.user, cf, ser.validated_data, client_ip(request))
        return Response(_detail(request, cf.pk))


class LinkView(APIView):
    @extend_schema(operation_id="case_files_link",
                   summary="Link to another expediente", request=RelateInSerializer,
                   responses=CaseFileDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "link")
        ser = RelateInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        services.case_file_link(actor=request.user, case_file=cf, other_id=ser.validated_data["other_id"],
                                note=ser.validated_data["note"], ip=client_ip(request))
        return Response(_detail(request, pk))


class AccumulateView(APIView):
    @extend_schema(operation_id="case_files_accumulate",
                   summary="Accumulate another expediente into this one (Ley 19.880 art. 33)",
                   request=RelateInSerializer, responses={201: EntrySerializer})
    def post(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "accumulate")
        ser = RelateInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        entry = services.case_file_accumulate(actor=request.user, case_file=cf,
                                              other_id=ser.validated_data["other_id"],
                                              note=ser.validated_data["note"], ip=client_ip(request))
        return Response(EntrySerializer(selectors.index_entry_get(request.user, cf, entry.pk)).data,
                        status=status.HTTP_201_CREATED)


class TimelineView(APIView):
    @extend_schema(operation_id="case_files_timeline",
                   summary="What happened to the expediente", responses=EventSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "timeline")
        events = list(selectors.case_file_timeline(cf))
        if not selectors.sees_restricted_metadata(request.user, cf):
            for e in events:  # titles of restricted documents stay hidden
                for x in e.data.get("entries", []) if isinstance(e.data, dict) else []:
                    if x.get("access_level") != AccessLevel.PUBLIC or x.get("sensitive_data"):
                        x["title"] = _("Restricted document")
        return Response(EventSerializer(events, many=True).data)


class AccessLogView(APIView):
    @extend_schema(operation_id="case_files_access_log",
                   summary="Who accessed what (auditors, admins, the responsible unit)",
                   responses=EventSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "access_log")
        events = selectors.case_file_access_log(request.user, cf)
        if events is None:
            raise PermissionDenied(_("Only auditors, administrators and the responsible unit read the access log."))
        return Response(EventSerializer(events, many=True).data)


class CopySerializer(serializers.ModelSerializer):
    scope = serializers.SerializerMethodField()
    document_position = serializers.IntegerField(source="entry.position", default=None, read_only=True)
    percent = serializers.IntegerField(read_only=True)
    verification_url = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = AuthorizedCopy
        fields = ["id", "code", "scope", "document_position", "status", "pages_done", "pages_total", "percent",
                  "index_hash", "requested_at", "finished_at", "error", "verification_url", "file_url"]

    def get_scope(self, obj: AuthorizedCopy) -> str:
        return "expediente" if obj.is_whole else "document"

    def get_verification_url(self, obj: AuthorizedCopy) -> str | None:
        return verification_url(obj.code) if obj.status == CopyStatus.DONE else None

    def get_file_url(self, obj: AuthorizedCopy) -> str | None:
        if obj.status != CopyStatus.DONE:
            return None
        return reverse("api-case-file-copy-file", args=[obj.case_file_id, obj.pk])


class CopiesView(APIView):
    @extend_schema(operation_id="case_files_copies_list",
                   summary="The authorized copies the user requested of this expediente",
                   responses=CopySerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "copies")
        return Response(CopySerializer(selectors.authorized_copies_for(request.user, cf), many=True).data)

    @extend_schema(operation_id="case_files_copy_request",
                   summary="Request a copia autorizada of the whole expediente (built in the background)",
                   request=None, responses={202: CopySerializer})
    def post(self, request: Request, pk: int) -> Response:
        cf = _get(request, pk, "copy")
        copy = services.authorized_copy_request(actor=request.user, case_file=cf, ip=client_ip(request))
        copy.refresh_from_db()
        return Response(CopySerializer(copy).data, status=status.HTTP_202_ACCEPTED)


class EntryCopyView(APIView):
    @extend_schema(operation_id="case_files_entry_copy",
                   summary="Issue a copia autorizada of one document", request=None, responses={201: CopySerializer})
    def post(self, request: Request, pk: int, entry_id: int) -> Response:
        cf = _get(request, pk, f"copy:{entry_id}")
        view = selectors.index_entry_get(request.user, cf, entry_id)
        if view is None:
            raise Http404
        copy = services.authorized_copy_request(actor=request.user, case_file=cf, entry=view.entry,
                                                ip=client_ip(request))
        return Response(CopySerializer(copy).data, status=status.HTTP_201_CREATED)


class CopyDetailView(APIView):
    @extend_schema(operation_id="case_files_copy", summary="One authorized copy and its progress",
                   responses=CopySerializer)
    def get(self, request: Request, pk: int, copy_id: int) -> Response:
        cf = _get(request, pk, "copy")
        copy = selectors.authorized_copy_get(request.user, cf, copy_id)
        if copy is None:
            raise Http404
        return Response(CopySerializer(copy).data)


class CopyFileView(APIView):
    @extend_schema(operation_id="case_files_copy_file", summary="The PDF of an authorized copy",
                   responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request: Request, pk: int, copy_id: int) -> FileResponse:
        cf = _get(request, pk, "copy")
        copy = selectors.authorized_copy_get(request.user, cf, copy_id)
        if copy is None or copy.file is None:
            raise Http404
        return FileResponse(file_open(copy.file), content_type="application/pdf", filename=copy.file.original_name)


def _tar(build: Any, filename: str) -> StreamingHttpResponse:
    tmp = Path(tempfile.mkdtemp(prefix="folio-bag-"))
    try:
        root = build(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    response = StreamingHttpResponse(archive.TarStream(root, cleanup=tmp), content_type="application/x-tar")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ArchivePackageView(APIView):
    @extend_schema(operation_id="case_files_archive_package",
                   summary="BagIt archival package of a closed expediente (tar, streamed)",
                   responses={(200, "application/x-tar"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        cf = _get(request, pk, "archive_export")
        return _tar(lambda tmp: services.archive_export(actor=request.user, case_file=cf, target_dir=tmp,
                                                        ip=client_ip(request)), f"{cf.iuie}-bagit.tar")


class SeriesPackageView(APIView):
    @extend_schema(operation_id="case_files_series_package",
                   summary="Bag of bags: every closed expediente of a series whose IUIe is of a year (tar)",
                   parameters=[OpenApiParameter("series", str, required=True),
                               OpenApiParameter("year", int, required=True)],
                   responses={(200, "application/x-tar"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request: Request) -> StreamingHttpResponse:
        ser = SeriesInSerializer(data=request.query_params)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        return _tar(lambda tmp: services.archive_export_series(
            actor=request.user, series_code=d["series"], year=d["year"], target_dir=tmp, ip=client_ip(request)),
            f"{archive.safe_name(d['series'])}-{d['year']}-bagit.tar")


class SeriesInSerializer(serializers.Serializer):
    series = serializers.CharField(max_length=40)
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class ImportInSerializer(serializers.Serializer):
    package = serializers.FileField(help_text="A bag as .tar, .tar.gz or .zip")
    unit_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class ImportPackageView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="case_files_import_package",
                   summary="Import an archival package (administrators; all or nothing)",
                   request=ImportInSerializer, responses={201: CaseFileListSerializer(many=True)})
    def post(self, request: Request) -> Response:
        ser = ImportInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        upload = ser.validated_data["package"]
        with tempfile.TemporaryDirectory(prefix="folio-upload-") as tmp:
            path = Path(tmp) / archive.safe_name(upload.name)
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            organization = getattr(request.user, "organization", None)
            if organization is None:
                raise PermissionDenied(_("Only an administrator of the organization imports archival packages."))
            imported = services.archive_import(actor=request.user, organization=organization,
                                               path=path, unit_code=ser.validated_data["unit_code"],
                                               ip=client_ip(request))
        return Response(CaseFileListSerializer(imported, many=True).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("case-files/", CaseFileListView.as_view(), name="api-case-files"),
    path("case-files/archival-package/", SeriesPackageView.as_view(), name="api-case-files-series-package"),
    path("case-files/import/", ImportPackageView.as_view(), name="api-case-files-import"),
    path("case-files/<int:pk>/archival-package/", ArchivePackageView.as_view(), name="api-case-file-archive-package"),
    path("case-files/<int:pk>/copies/", CopiesView.as_view(), name="api-case-file-copies"),
    path("case-files/<int:pk>/copies/<int:copy_id>/", CopyDetailView.as_view(), name="api-case-file-copy"),
    path("case-files/<int:pk>/copies/<int:copy_id>/file/", CopyFileView.as_view(), name="api-case-file-copy-file"),
    path("case-files/<int:pk>/entries/<int:entry_id>/copy/", EntryCopyView.as_view(), name="api-case-file-entry-copy"),
    path("case-files/<int:pk>/", CaseFileDetailView.as_view(), name="api-case-file"),
    path("case-files/<int:pk>/index/", IndexView.as_view(), name="api-case-file-index"),
    path("case-files/<int:pk>/index.xml", IndexXmlView.as_view(), name="api-case-file-index-xml"),
    path("case-files/<int:pk>/metadata/", MetadataView.as_view(), name="api-case-file-metadata"),
    path("case-files/<int:pk>/entries/", EntriesView.as_view(), name="api-case-file-entries"),
    path("case-files/<int:pk>/entries/paper/", PaperEntryView.as_view(), name="api-case-file-entries-paper"),
    path("case-files/<int:pk>/entries/registration/", RegistrationEntryView.as_view(),
         name="api-case-file-entries-registration"),
    path("case-files/<int:pk>/entries/<int:entry_id>/file/", EntryFileView.as_view(), name="api-case-file-entry-file"),
    path("case-files/<int:pk>/transfer/", TransferView.as_view(), name="api-case-file-transfer"),
    path("case-files/<int:pk>/link/", LinkView.as_view(), name="api-case-file-link"),
    path("case-files/<int:pk>/accumulate/", AccumulateView.as_view(), name="api-case-file-accumulate"),
    path("case-files/<int:pk>/timeline/", TimelineView.as_view(), name="api-case-file-timeline"),
    path("case-files/<int:pk>/access-log/", AccessLogView.as_view(), name="api-case-file-access-log"),
    re_path(r"^case-files/(?P<pk>[0-9]+)/(?P<action>suspend|resume|close|reopen|archive)/$", TransitionView.as_view(),
            name="api-case-file-transition"),
]
