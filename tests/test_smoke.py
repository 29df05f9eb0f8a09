from tests.conftest import GraphQLClient


async def test_me(gql: GraphQLClient) -> None:
    data = await gql("{ me { username role } }")
    assert data == {"me": {"username": "owner", "role": "OWNER"}}
