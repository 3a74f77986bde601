"""fakeapollo's contract-testing toolkit: strategies and client properties built on the schemas."""
