from tests.review.backoffice import sign_in, users  # noqa: F401  (fixtures)
