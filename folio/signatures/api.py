"""REST API of the signature engine (/api/v1/signatures/). Thin: parse, call a selector or service, serialise.
Errors follow folio.api.errors (400 with {"error": {"code", "message", "fields"}})."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from folio.files.services import read_upload
from folio.signatures.selectors import signer_certificate_active
from folio.signatures.services import DocumentRejected, validate_pdf


class SignatureSerializer(serializers.Serializer):
    field = serializers.CharField()
    kind = serializers.ChoiceField(choices=["signature", "timestamp"])
    signer_name = serializers.CharField()
    signer_run = serializers.CharField(allow_blank=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    valid = serializers.BooleanField()
    intact = serializers.BooleanField()
    trusted = serializers.BooleanField()
    revoked = serializers.BooleanField()
    timestamped = serializers.BooleanField()
    chain = serializers.ListField(child=serializers.CharField())
    certificate_serial = serializers.CharField(allow_blank=True)
    issuer = serializers.CharField(allow_blank=True)


class ReportSerializer(serializers.Serializer):
    intact = serializers.BooleanField()
    modified_after_signing = serializers.BooleanField()
    signatures = SignatureSerializer(many=True)


class ValidateUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class SignatureValidateView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Validate the electronic signatures of a PDF",
        request={"multipart/form-data": ValidateUploadSerializer},
        responses={200: ReportSerializer, 400: OpenApiResponse(description="Not a PDF, encrypted, damaged or "
                                                                            "without signatures")},
        tags=["signatures"],
    )
    def post(self, request: Request) -> Response:
        form = ValidateUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = read_upload(form.validated_data["file"])
        try:
            report = validate_pdf(pdf=data, organization=None)
        except DocumentRejected as exc:
            return Response({"error": {"code": exc.code, "message": exc.message, "fields": {"file": [exc.message]}}},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response(ReportSerializer(report).data)


class MyCertificateView(APIView):
    @extend_schema(
        summary="The caller's active signing certificate",
        responses={200: inline_serializer("SignerCertificate", {
            "serial": serializers.CharField(), "subject": serializers.CharField(),
            "not_before": serializers.DateTimeField(), "not_after": serializers.DateTimeField(),
            "certificate_pem": serializers.CharField()}), 404: OpenApiResponse(description="No active certificate")},
        tags=["signatures"],
    )
    def get(self, request: Request) -> Response:
        cert = signer_certificate_active(request.user)
        if cert is None:
            return Response({"error": {"code": "not_found", "message": _("You have no active signing certificate yet."),
                                       "fields": {}}},
                            status=status.HTTP_404_NOT_FOUND)
        return Response({"serial": cert.serial, "subject": cert.subject, "not_before": cert.not_before,
                         "not_after": cert.not_after, "certificate_pem": cert.certificate_pem})


urlpatterns = [
    path("signatures/validate", SignatureValidateView.as_view(), name="api-signatures-validate"),
    path("signatures/certificate", MyCertificateView.as_view(), name="api-signatures-certificate"),
]
