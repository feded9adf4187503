"""boto3 against secretslite through the fixtures of conftest.py: `python3 -m pytest` in this directory."""
import json

import pytest


def test_a_secret_written_is_read_back(secretsmanager):
    secretsmanager.create_secret(Name="app/db", SecretString=json.dumps({"user": "admin"}))
    value = secretsmanager.get_secret_value(SecretId="app/db")
    assert json.loads(value["SecretString"]) == {"user": "admin"}


def test_the_reset_before_each_test_removed_the_last_tests_secret(secretsmanager):
    assert secretsmanager.list_secrets()["SecretList"] == []


def test_a_missing_secret_is_aws_s_error(secretsmanager):
    with pytest.raises(secretsmanager.exceptions.ResourceNotFoundException):
        secretsmanager.get_secret_value(SecretId="app/none")


def test_kms_seals_and_opens_under_a_new_key(kms):
    key_id = kms.create_key(Description="pytest")["KeyMetadata"]["KeyId"]
    sealed = kms.encrypt(KeyId=key_id, Plaintext=b"hello", EncryptionContext={"purpose": "pytest"})
    opened = kms.decrypt(CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext={"purpose": "pytest"})
    assert opened["Plaintext"] == b"hello"
    assert opened["KeyId"] == sealed["KeyId"]


def test_a_12_digit_access_key_is_an_account_of_its_own(secretsmanager, client_in_account):
    theirs = client_in_account("secretsmanager", "111122223333")
    arn = theirs.create_secret(Name="app/db", SecretString="theirs")["ARN"]
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-")
    assert secretsmanager.list_secrets()["SecretList"] == []
