"""``client.credentials``: registry credentials (``/v2/container-registry-auths``) for private images."""

from __future__ import annotations

import builtins
from typing import Any

import msgspec

from .._protocol import ReplyDecoder
from .._runtime import Runtime
from .._session import IGNORE_DATA, RETRY_UNSENT, Session
from .._validation import ResourceId, check_id, check_name, check_new_enum_name, check_secret
from ..errors import CredentialNotFoundError, InvalidStateError, ResourceInUseError, ValidationError
from ..models.credential import RegistryCredential, RegistryType

__all__ = ["Credentials"]

PATH = "/v2/container-registry-auths"
# Built once, at import. ``get`` also takes the guide's "same as list" reading (an array).
CREDENTIAL_DECODER: ReplyDecoder[RegistryCredential] = ReplyDecoder(RegistryCredential)
CREDENTIAL_OR_LIST_DECODER: ReplyDecoder[RegistryCredential | list[RegistryCredential]] = ReplyDecoder(
    RegistryCredential | list[RegistryCredential]
)
CREDENTIAL_LIST_DECODER: ReplyDecoder[list[RegistryCredential] | None] = ReplyDecoder(
    list[RegistryCredential] | None
)


class Credentials:
    """Registry credentials (``client.credentials``): the stored login a private image pull uses.

    ::

        import getpass
        cred = await client.credentials.create(name="hub", type="DOCKER_HUB",
                                               username="me", password=getpass.getpass())
        pod = await client.pods.create(..., image="me/private:1", container_registry_auth_id=cred)
        await client.credentials.delete(cred.id)   # ResourceInUseError while a pod uses it

    **The password is a secret.** It goes into the request body and nowhere else: it is
    not kept on any returned object, not logged (request bodies are never logged) and not
    quoted in errors (a reply echoing it has it blanked out first). The API never returns
    it either.
    """

    def __init__(self, transport: Session, runtime: Runtime) -> None:
        self._transport = transport
        self._runtime = runtime

    async def list(self) -> builtins.list[RegistryCredential]:
        """Every registry credential of the organisation (no paging is documented)."""
        found = await self._transport.request("GET", PATH, CREDENTIAL_LIST_DECODER)
        return found or []

    async def get(self, credential_id: ResourceId) -> RegistryCredential:
        """One credential by id.

        The guide says get returns "the same as list"; the OpenAPI file and every mock
        return one object. Both are read: from an array, the entry with this id is taken.
        A missing credential (HTTP 404, or an array without it) raises
        :class:`~yotta_async.CredentialNotFoundError`.
        """
        cid = check_id(credential_id, "credential_id")
        path = f"{PATH}/{cid}"
        found = await self._transport.request("GET", path, CREDENTIAL_OR_LIST_DECODER)
        if isinstance(found, RegistryCredential):
            return found
        for item in found:
            if item.id == cid:
                return item
        # The guide's array form without the id asked for: that credential is not there.
        raise CredentialNotFoundError(
            f"credential {cid} not found: the reply lists {len(found)} credential(s), none with that id",
            http_status=200, method="GET", path=path,
        )

    async def create(
        self, *, name: str, type: RegistryType | str, username: str, password: str
    ) -> RegistryCredential:
        """Store a registry login; returns it (without the password).

        All four fields are required and must be non-empty. ``type`` is a
        :class:`RegistryType` or its name (case-insensitive); a name this SDK does not know
        is sent as given, upper-cased, in case the API has added one.

        Not retried after the request may have reached the server (like a pod create),
        so a lost reply never makes two credentials.
        """
        body = {
            "name": check_name(name, "name", max_len=255),
            "type": _registry_type(type),
            "username": check_name(username, "username", max_len=255),
            "password": check_secret(password, "password"),
        }
        return await self._transport.request(
            "POST", PATH, CREDENTIAL_DECODER, body=msgspec.json.encode(body),
            retry=RETRY_UNSENT, secrets=(password,),
        )

    async def update(
        self,
        credential_id: ResourceId | RegistryCredential,
        *,
        name: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> RegistryCredential:
        """Change any of ``name``, ``username``, ``password`` (``PATCH``); at least one.

        The type cannot be changed. An update with no field is refused here: what the API
        does with ``{}`` is not documented.
        """
        cid = _cid(credential_id)
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = check_name(name, "name", max_len=255)
        if username is not None:
            body["username"] = check_name(username, "username", max_len=255)
        if password is not None:
            body["password"] = check_secret(password, "password")
        if not body:
            raise ValidationError("update", "give at least one of name, username or password")
        return await self._transport.request(
            "PATCH", f"{PATH}/{cid}", CREDENTIAL_DECODER, body=msgspec.json.encode(body),
            secrets=(password,) if password else (),
        )

    async def delete(self, credential_id: ResourceId | RegistryCredential) -> None:
        """Delete a credential.

        Refused while a pod or an elastic deployment uses it: the API answers HTTP 409 or
        HTTP 200 with code 25002 (both are documented), and either raises
        :class:`~yotta_async.ResourceInUseError` with ``pod_ids`` (and the raw
        ``pod_list`` / ``elastic_list`` when the reply carries them).
        """
        cid = _cid(credential_id)
        try:
            await self._transport.request("DELETE", f"{PATH}/{cid}", IGNORE_DATA)
        except ResourceInUseError as exc:
            exc.resource_id = cid
            raise
        except InvalidStateError as exc:
            if exc.http_status != 409:
                raise
            raise in_use(exc, resource_id=cid) from exc


def in_use(exc: InvalidStateError, **details: Any) -> ResourceInUseError:
    """``exc`` (a 409 or another state refusal) as a :class:`ResourceInUseError`."""
    return ResourceInUseError(
        exc.message,
        code=exc.code,
        http_status=exc.http_status,
        method=exc.method,
        path=exc.path,
        request_id=exc.request_id,
        **details,
    )


def _cid(value: object) -> int:
    if isinstance(value, RegistryCredential):
        return value.id
    return check_id(value, "credential_id")


def _registry_type(value: object) -> str:
    if isinstance(value, RegistryType):
        return value.value
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("type", f"expected a RegistryType or its name, got {value!r:.40}")
    known = RegistryType(value)
    if known.is_known:
        return known.value
    return check_new_enum_name(value, "type", [t.value for t in RegistryType])
