"""Settings owned by the object store: where objects live and how to reach S3.

`TAGEN_OBJECTS_URL` picks the backend by scheme: unset or a path / `file://` URL means a local
directory (default `<TAGEN_HOME>/objects`), `s3://bucket/prefix` means S3 or any S3-compatible
endpoint (`TAGEN_OBJECTS_S3_ENDPOINT_URL`). Credentials default to boto3's usual chain.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ObjectStoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TAGEN_OBJECTS_", extra="ignore")

    url: str | None = Field(default=None, description="file:// path or s3://bucket/prefix")
    s3_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint")
    s3_region: str | None = None
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None


@lru_cache(maxsize=1)
def get_object_store_settings() -> ObjectStoreSettings:
    return ObjectStoreSettings()
