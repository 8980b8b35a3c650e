"""What is deployed and how: the function manifest as typed objects, and the deployable bundles."""
