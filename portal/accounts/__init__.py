"""Accounts: registration, login, sessions (issue 4 builds this out)."""


def init_app(app):
    from portal.extensions import login_manager

    @login_manager.user_loader
    def load_user(user_id: str):
        return None
