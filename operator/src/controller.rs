//! In-cluster controllers: finalizers, status via server-side apply, Kubernetes Events.
