"""VRoid Hub: API client (`client`), model -> document mapping (`mapping`), Firestore sync (`sync`),
and the scheduled job wiring it to configuration (`job`)."""
