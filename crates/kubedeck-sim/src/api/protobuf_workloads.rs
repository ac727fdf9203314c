//! Protobuf field tables of the kinds with a pod template (Deployment,
//! ReplicaSet, StatefulSet, DaemonSet, Job, CronJob) and of Pod, with every
//! message they reach, generated from k8s.io/api v0.37.2's `generated.proto`
//! (field numbers, repeated) and `types.go` (a Go pointer or a field without
//! `omitempty` keeps its zero value, as Go's JSON shows it). Status is left
//! out, as a create ignores it; so are alpha scheduling fields.
//! `tools/protobuf_tables.py` writes everything below the `use` line.

use super::protobuf::{Field, Kind, LABEL_SELECTOR, OBJECT_META, f, list, ptr};

pub(super) const HOST_PATH_VOLUME_SOURCE: &[Field] =
    &[ptr(1, "path", Kind::Str), ptr(2, "type", Kind::Str)];

pub(super) const EMPTY_DIR_VOLUME_SOURCE: &[Field] = &[
    f(1, "medium", Kind::Str),
    ptr(2, "sizeLimit", Kind::Quantity),
    ptr(3, "mode", Kind::Int),
];

pub(super) const GCE_PERSISTENT_DISK_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "pdName", Kind::Str),
    f(2, "fsType", Kind::Str),
    f(3, "partition", Kind::Int),
    f(4, "readOnly", Kind::Bool),
];

pub(super) const AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "volumeID", Kind::Str),
    f(2, "fsType", Kind::Str),
    f(3, "partition", Kind::Int),
    f(4, "readOnly", Kind::Bool),
];

pub(super) const GIT_REPO_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "repository", Kind::Str),
    f(2, "revision", Kind::Str),
    f(3, "directory", Kind::Str),
];

pub(super) const KEY_TO_PATH: &[Field] = &[
    ptr(1, "key", Kind::Str),
    ptr(2, "path", Kind::Str),
    ptr(3, "mode", Kind::Int),
    ptr(4, "user", Kind::Int),
];

pub(super) const SECRET_VOLUME_SOURCE: &[Field] = &[
    f(1, "secretName", Kind::Str),
    list(2, "items", Kind::Msg(KEY_TO_PATH)),
    ptr(3, "defaultMode", Kind::Int),
    ptr(4, "optional", Kind::Bool),
    ptr(5, "defaultUser", Kind::Int),
];

pub(super) const NFS_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "server", Kind::Str),
    ptr(2, "path", Kind::Str),
    f(3, "readOnly", Kind::Bool),
];

pub(super) const LOCAL_OBJECT_REFERENCE: &[Field] = &[f(1, "name", Kind::Str)];

pub(super) const ISCSI_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "targetPortal", Kind::Str),
    ptr(2, "iqn", Kind::Str),
    ptr(3, "lun", Kind::Int),
    f(4, "iscsiInterface", Kind::Str),
    f(5, "fsType", Kind::Str),
    f(6, "readOnly", Kind::Bool),
    list(7, "portals", Kind::Str),
    f(8, "chapAuthDiscovery", Kind::Bool),
    f(11, "chapAuthSession", Kind::Bool),
    ptr(10, "secretRef", Kind::Msg(LOCAL_OBJECT_REFERENCE)),
    ptr(12, "initiatorName", Kind::Str),
];

pub(super) const GLUSTERFS_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "endpoints", Kind::Str),
    ptr(2, "path", Kind::Str),
    f(3, "readOnly", Kind::Bool),
];

pub(super) const PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: &[Field] =
    &[ptr(1, "claimName", Kind::Str), f(2, "readOnly", Kind::Bool)];

pub(super) const RBD_VOLUME_SOURCE: &[Field] = &[
    list(1, "monitors", Kind::Str),
    ptr(2, "image", Kind::Str),
    f(3, "fsType", Kind::Str),
    f(4, "pool", Kind::Str),
    f(5, "user", Kind::Str),
    f(6, "keyring", Kind::Str),
    ptr(7, "secretRef", Kind::Msg(LOCAL_OBJECT_REFERENCE)),
    f(8, "readOnly", Kind::Bool),
];

pub(super) const FLEX_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "driver", Kind::Str),
    f(2, "fsType", Kind::Str),
    ptr(3, "secretRef", Kind::Msg(LOCAL_OBJECT_REFERENCE)),
    f(4, "readOnly", Kind::Bool),
    f(5, "options", Kind::MapStr),
];

pub(super) const CINDER_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "volumeID", Kind::Str),
    f(2, "fsType", Kind::Str),
    f(3, "readOnly", Kind::Bool),
    ptr(4, "secretRef", Kind::Msg(LOCAL_OBJECT_REFERENCE)),
];

pub(super) const CEPH_FS_VOLUME_SOURCE: &[Field] = &[
    list(1, "monitors", Kind::Str),
    f(2, "path", Kind::Str),
    f(3, "user", Kind::Str),
    f(4, "secretFile", Kind::Str),
    ptr(5, "secretRef", Kind::Msg(LOCAL_OBJECT_REFERENCE)),
    f(6, "readOnly", Kind::Bool),
];

pub(super) const FLOCKER_VOLUME_SOURCE: &[Field] = &[
    f(1, "datasetName", Kind::Str),
    f(2, "datasetUUID", Kind::Str),
];

pub(super) const OBJECT_FIELD_SELECTOR: &[Field] = &[
    f(1, "apiVersion", Kind::Str),
    ptr(2, "fieldPath", Kind::Str),
];

pub(super) const RESOURCE_FIELD_SELECTOR: &[Field] = &[
    f(1, "containerName", Kind::Str),
    ptr(2, "resource", Kind::Str),
    f(3, "divisor", Kind::Quantity),
];

pub(super) const DOWNWARD_API_VOLUME_FILE: &[Field] = &[
    ptr(1, "path", Kind::Str),
    ptr(2, "fieldRef", Kind::Msg(OBJECT_FIELD_SELECTOR)),
    ptr(3, "resourceFieldRef", Kind::Msg(RESOURCE_FIELD_SELECTOR)),
    ptr(4, "mode", Kind::Int),
    ptr(5, "user", Kind::Int),
];

pub(super) const DOWNWARD_API_VOLUME_SOURCE: &[Field] = &[
    list(1, "items", Kind::Msg(DOWNWARD_API_VOLUME_FILE)),
    ptr(2, "defaultMode", Kind::Int),
    ptr(3, "defaultUser", Kind::Int),
];

pub(super) const FC_VOLUME_SOURCE: &[Field] = &[
    list(1, "targetWWNs", Kind::Str),
    ptr(2, "lun", Kind::Int),
    f(3, "fsType", Kind::Str),
    f(4, "readOnly", Kind::Bool),
    list(5, "wwids", Kind::Str),
];

pub(super) const AZURE_FILE_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "secretName", Kind::Str),
    ptr(2, "shareName", Kind::Str),
    f(3, "readOnly", Kind::Bool),
];

pub(super) const CONFIG_MAP_VOLUME_SOURCE: &[Field] = &[
    f(
        1,
        "localObjectReference",
        Kind::Inline(LOCAL_OBJECT_REFERENCE),
    ),
    list(2, "items", Kind::Msg(KEY_TO_PATH)),
    ptr(3, "defaultMode", Kind::Int),
    ptr(4, "optional", Kind::Bool),
    ptr(5, "defaultUser", Kind::Int),
];

pub(super) const VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "volumePath", Kind::Str),
    f(2, "fsType", Kind::Str),
    f(3, "storagePolicyName", Kind::Str),
    f(4, "storagePolicyID", Kind::Str),
];

pub(super) const QUOBYTE_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "registry", Kind::Str),
    ptr(2, "volume", Kind::Str),
    f(3, "readOnly", Kind::Bool),
    f(4, "user", Kind::Str),
    f(5, "group", Kind::Str),
    f(6, "tenant", Kind::Str),
];

pub(super) const AZURE_DISK_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "diskName", Kind::Str),
    ptr(2, "diskURI", Kind::Str),
    ptr(3, "cachingMode", Kind::Str),
    ptr(4, "fsType", Kind::Str),
    ptr(5, "readOnly", Kind::Bool),
    ptr(6, "kind", Kind::Str),
];

pub(super) const PHOTON_PERSISTENT_DISK_VOLUME_SOURCE: &[Field] =
    &[ptr(1, "pdID", Kind::Str), f(2, "fsType", Kind::Str)];

pub(super) const SECRET_PROJECTION: &[Field] = &[
    f(
        1,
        "localObjectReference",
        Kind::Inline(LOCAL_OBJECT_REFERENCE),
    ),
    list(2, "items", Kind::Msg(KEY_TO_PATH)),
    ptr(4, "optional", Kind::Bool),
];

pub(super) const DOWNWARD_API_PROJECTION: &[Field] =
    &[list(1, "items", Kind::Msg(DOWNWARD_API_VOLUME_FILE))];

pub(super) const CONFIG_MAP_PROJECTION: &[Field] = &[
    f(
        1,
        "localObjectReference",
        Kind::Inline(LOCAL_OBJECT_REFERENCE),
    ),
    list(2, "items", Kind::Msg(KEY_TO_PATH)),
    ptr(4, "optional", Kind::Bool),
];

pub(super) const SERVICE_ACCOUNT_TOKEN_PROJECTION: &[Field] = &[
    f(1, "audience", Kind::Str),
    ptr(2, "expirationSeconds", Kind::Int),
    ptr(3, "path", Kind::Str),
    ptr(4, "user", Kind::Int),
];

pub(super) const CLUSTER_TRUST_BUNDLE_PROJECTION: &[Field] = &[
    ptr(1, "name", Kind::Str),
    ptr(2, "signerName", Kind::Str),
    ptr(3, "labelSelector", Kind::Msg(LABEL_SELECTOR)),
    ptr(5, "optional", Kind::Bool),
    ptr(4, "path", Kind::Str),
    ptr(6, "user", Kind::Int),
];

pub(super) const POD_CERTIFICATE_PROJECTION: &[Field] = &[
    f(1, "signerName", Kind::Str),
    f(2, "keyType", Kind::Str),
    ptr(3, "maxExpirationSeconds", Kind::Int),
    f(4, "credentialBundlePath", Kind::Str),
    f(5, "keyPath", Kind::Str),
    f(6, "certificateChainPath", Kind::Str),
    f(7, "userAnnotations", Kind::MapStr),
    ptr(8, "user", Kind::Int),
];

pub(super) const VOLUME_PROJECTION: &[Field] = &[
    ptr(1, "secret", Kind::Msg(SECRET_PROJECTION)),
    ptr(2, "downwardAPI", Kind::Msg(DOWNWARD_API_PROJECTION)),
    ptr(3, "configMap", Kind::Msg(CONFIG_MAP_PROJECTION)),
    ptr(
        4,
        "serviceAccountToken",
        Kind::Msg(SERVICE_ACCOUNT_TOKEN_PROJECTION),
    ),
    ptr(
        5,
        "clusterTrustBundle",
        Kind::Msg(CLUSTER_TRUST_BUNDLE_PROJECTION),
    ),
    ptr(6, "podCertificate", Kind::Msg(POD_CERTIFICATE_PROJECTION)),
];

pub(super) const PROJECTED_VOLUME_SOURCE: &[Field] = &[
    list(1, "sources", Kind::Msg(VOLUME_PROJECTION)),
    ptr(2, "defaultMode", Kind::Int),
    ptr(3, "defaultUser", Kind::Int),
];

pub(super) const PORTWORX_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "volumeID", Kind::Str),
    f(2, "fsType", Kind::Str),
    f(3, "readOnly", Kind::Bool),
];

pub(super) const SCALE_IO_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "gateway", Kind::Str),
    ptr(2, "system", Kind::Str),
    ptr(3, "secretRef", Kind::Msg(LOCAL_OBJECT_REFERENCE)),
    f(4, "sslEnabled", Kind::Bool),
    f(5, "protectionDomain", Kind::Str),
    f(6, "storagePool", Kind::Str),
    f(7, "storageMode", Kind::Str),
    f(8, "volumeName", Kind::Str),
    f(9, "fsType", Kind::Str),
    f(10, "readOnly", Kind::Bool),
];

pub(super) const STORAGE_OS_VOLUME_SOURCE: &[Field] = &[
    f(1, "volumeName", Kind::Str),
    f(2, "volumeNamespace", Kind::Str),
    f(3, "fsType", Kind::Str),
    f(4, "readOnly", Kind::Bool),
    ptr(5, "secretRef", Kind::Msg(LOCAL_OBJECT_REFERENCE)),
];

pub(super) const CSI_VOLUME_SOURCE: &[Field] = &[
    ptr(1, "driver", Kind::Str),
    ptr(2, "readOnly", Kind::Bool),
    ptr(3, "fsType", Kind::Str),
    f(4, "volumeAttributes", Kind::MapStr),
    ptr(5, "nodePublishSecretRef", Kind::Msg(LOCAL_OBJECT_REFERENCE)),
];

pub(super) const VOLUME_RESOURCE_REQUIREMENTS: &[Field] = &[
    f(1, "limits", Kind::MapQuantity),
    f(2, "requests", Kind::MapQuantity),
];

pub(super) const TYPED_LOCAL_OBJECT_REFERENCE: &[Field] = &[
    ptr(1, "apiGroup", Kind::Str),
    ptr(2, "kind", Kind::Str),
    ptr(3, "name", Kind::Str),
];

pub(super) const TYPED_OBJECT_REFERENCE: &[Field] = &[
    ptr(1, "apiGroup", Kind::Str),
    ptr(2, "kind", Kind::Str),
    ptr(3, "name", Kind::Str),
    ptr(4, "namespace", Kind::Str),
];

pub(super) const PERSISTENT_VOLUME_CLAIM_SPEC: &[Field] = &[
    list(1, "accessModes", Kind::Str),
    ptr(4, "selector", Kind::Msg(LABEL_SELECTOR)),
    f(2, "resources", Kind::Msg(VOLUME_RESOURCE_REQUIREMENTS)),
    f(3, "volumeName", Kind::Str),
    ptr(5, "storageClassName", Kind::Str),
    ptr(6, "volumeMode", Kind::Str),
    ptr(7, "dataSource", Kind::Msg(TYPED_LOCAL_OBJECT_REFERENCE)),
    ptr(8, "dataSourceRef", Kind::Msg(TYPED_OBJECT_REFERENCE)),
    ptr(9, "volumeAttributesClassName", Kind::Str),
];

pub(super) const PERSISTENT_VOLUME_CLAIM_TEMPLATE: &[Field] = &[
    f(1, "metadata", Kind::Msg(OBJECT_META)),
    f(2, "spec", Kind::Msg(PERSISTENT_VOLUME_CLAIM_SPEC)),
];

pub(super) const EPHEMERAL_VOLUME_SOURCE: &[Field] = &[ptr(
    1,
    "volumeClaimTemplate",
    Kind::Msg(PERSISTENT_VOLUME_CLAIM_TEMPLATE),
)];

pub(super) const IMAGE_VOLUME_SOURCE: &[Field] =
    &[f(1, "reference", Kind::Str), f(2, "pullPolicy", Kind::Str)];

pub(super) const VOLUME_SOURCE: &[Field] = &[
    ptr(1, "hostPath", Kind::Msg(HOST_PATH_VOLUME_SOURCE)),
    ptr(2, "emptyDir", Kind::Msg(EMPTY_DIR_VOLUME_SOURCE)),
    ptr(
        3,
        "gcePersistentDisk",
        Kind::Msg(GCE_PERSISTENT_DISK_VOLUME_SOURCE),
    ),
    ptr(
        4,
        "awsElasticBlockStore",
        Kind::Msg(AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE),
    ),
    ptr(5, "gitRepo", Kind::Msg(GIT_REPO_VOLUME_SOURCE)),
    ptr(6, "secret", Kind::Msg(SECRET_VOLUME_SOURCE)),
    ptr(7, "nfs", Kind::Msg(NFS_VOLUME_SOURCE)),
    ptr(8, "iscsi", Kind::Msg(ISCSI_VOLUME_SOURCE)),
    ptr(9, "glusterfs", Kind::Msg(GLUSTERFS_VOLUME_SOURCE)),
    ptr(
        10,
        "persistentVolumeClaim",
        Kind::Msg(PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE),
    ),
    ptr(11, "rbd", Kind::Msg(RBD_VOLUME_SOURCE)),
    ptr(12, "flexVolume", Kind::Msg(FLEX_VOLUME_SOURCE)),
    ptr(13, "cinder", Kind::Msg(CINDER_VOLUME_SOURCE)),
    ptr(14, "cephfs", Kind::Msg(CEPH_FS_VOLUME_SOURCE)),
    ptr(15, "flocker", Kind::Msg(FLOCKER_VOLUME_SOURCE)),
    ptr(16, "downwardAPI", Kind::Msg(DOWNWARD_API_VOLUME_SOURCE)),
    ptr(17, "fc", Kind::Msg(FC_VOLUME_SOURCE)),
    ptr(18, "azureFile", Kind::Msg(AZURE_FILE_VOLUME_SOURCE)),
    ptr(19, "configMap", Kind::Msg(CONFIG_MAP_VOLUME_SOURCE)),
    ptr(
        20,
        "vsphereVolume",
        Kind::Msg(VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE),
    ),
    ptr(21, "quobyte", Kind::Msg(QUOBYTE_VOLUME_SOURCE)),
    ptr(22, "azureDisk", Kind::Msg(AZURE_DISK_VOLUME_SOURCE)),
    ptr(
        23,
        "photonPersistentDisk",
        Kind::Msg(PHOTON_PERSISTENT_DISK_VOLUME_SOURCE),
    ),
    ptr(26, "projected", Kind::Msg(PROJECTED_VOLUME_SOURCE)),
    ptr(24, "portworxVolume", Kind::Msg(PORTWORX_VOLUME_SOURCE)),
    ptr(25, "scaleIO", Kind::Msg(SCALE_IO_VOLUME_SOURCE)),
    ptr(27, "storageos", Kind::Msg(STORAGE_OS_VOLUME_SOURCE)),
    ptr(28, "csi", Kind::Msg(CSI_VOLUME_SOURCE)),
    ptr(29, "ephemeral", Kind::Msg(EPHEMERAL_VOLUME_SOURCE)),
    ptr(30, "image", Kind::Msg(IMAGE_VOLUME_SOURCE)),
];

pub(super) const VOLUME: &[Field] = &[
    ptr(1, "name", Kind::Str),
    f(2, "volumeSource", Kind::Inline(VOLUME_SOURCE)),
];

pub(super) const CONTAINER_PORT: &[Field] = &[
    f(1, "name", Kind::Str),
    f(2, "hostPort", Kind::Int),
    ptr(3, "containerPort", Kind::Int),
    f(4, "protocol", Kind::Str),
    f(5, "hostIP", Kind::Str),
];

pub(super) const CONFIG_MAP_ENV_SOURCE: &[Field] = &[
    f(
        1,
        "localObjectReference",
        Kind::Inline(LOCAL_OBJECT_REFERENCE),
    ),
    ptr(2, "optional", Kind::Bool),
];

pub(super) const SECRET_ENV_SOURCE: &[Field] = &[
    f(
        1,
        "localObjectReference",
        Kind::Inline(LOCAL_OBJECT_REFERENCE),
    ),
    ptr(2, "optional", Kind::Bool),
];

pub(super) const ENV_FROM_SOURCE: &[Field] = &[
    f(1, "prefix", Kind::Str),
    ptr(2, "configMapRef", Kind::Msg(CONFIG_MAP_ENV_SOURCE)),
    ptr(3, "secretRef", Kind::Msg(SECRET_ENV_SOURCE)),
];

pub(super) const CONFIG_MAP_KEY_SELECTOR: &[Field] = &[
    f(
        1,
        "localObjectReference",
        Kind::Inline(LOCAL_OBJECT_REFERENCE),
    ),
    ptr(2, "key", Kind::Str),
    ptr(3, "optional", Kind::Bool),
];

pub(super) const SECRET_KEY_SELECTOR: &[Field] = &[
    f(
        1,
        "localObjectReference",
        Kind::Inline(LOCAL_OBJECT_REFERENCE),
    ),
    ptr(2, "key", Kind::Str),
    ptr(3, "optional", Kind::Bool),
];

pub(super) const FILE_KEY_SELECTOR: &[Field] = &[
    ptr(1, "volumeName", Kind::Str),
    ptr(2, "path", Kind::Str),
    ptr(3, "key", Kind::Str),
    ptr(4, "optional", Kind::Bool),
];

pub(super) const ENV_VAR_SOURCE: &[Field] = &[
    ptr(1, "fieldRef", Kind::Msg(OBJECT_FIELD_SELECTOR)),
    ptr(2, "resourceFieldRef", Kind::Msg(RESOURCE_FIELD_SELECTOR)),
    ptr(3, "configMapKeyRef", Kind::Msg(CONFIG_MAP_KEY_SELECTOR)),
    ptr(4, "secretKeyRef", Kind::Msg(SECRET_KEY_SELECTOR)),
    ptr(5, "fileKeyRef", Kind::Msg(FILE_KEY_SELECTOR)),
];

pub(super) const ENV_VAR: &[Field] = &[
    ptr(1, "name", Kind::Str),
    f(2, "value", Kind::Str),
    ptr(3, "valueFrom", Kind::Msg(ENV_VAR_SOURCE)),
];

pub(super) const RESOURCE_CLAIM: &[Field] =
    &[ptr(1, "name", Kind::Str), f(2, "request", Kind::Str)];

pub(super) const RESOURCE_REQUIREMENTS: &[Field] = &[
    f(1, "limits", Kind::MapQuantity),
    f(2, "requests", Kind::MapQuantity),
    list(3, "claims", Kind::Msg(RESOURCE_CLAIM)),
];

pub(super) const CONTAINER_RESIZE_POLICY: &[Field] = &[
    ptr(1, "resourceName", Kind::Str),
    ptr(2, "restartPolicy", Kind::Str),
];

pub(super) const CONTAINER_RESTART_RULE_ON_EXIT_CODES: &[Field] =
    &[f(1, "operator", Kind::Str), list(2, "values", Kind::Int)];

pub(super) const CONTAINER_RESTART_RULE: &[Field] = &[
    f(1, "action", Kind::Str),
    ptr(
        2,
        "exitCodes",
        Kind::Msg(CONTAINER_RESTART_RULE_ON_EXIT_CODES),
    ),
];

pub(super) const VOLUME_MOUNT: &[Field] = &[
    ptr(1, "name", Kind::Str),
    f(2, "readOnly", Kind::Bool),
    ptr(7, "recursiveReadOnly", Kind::Str),
    ptr(3, "mountPath", Kind::Str),
    f(4, "subPath", Kind::Str),
    ptr(5, "mountPropagation", Kind::Str),
    f(6, "subPathExpr", Kind::Str),
    list(8, "bindMountOptions", Kind::Str),
];

pub(super) const VOLUME_DEVICE: &[Field] =
    &[ptr(1, "name", Kind::Str), ptr(2, "devicePath", Kind::Str)];

pub(super) const EXEC_ACTION: &[Field] = &[list(1, "command", Kind::Str)];

pub(super) const HTTP_HEADER: &[Field] = &[ptr(1, "name", Kind::Str), ptr(2, "value", Kind::Str)];

pub(super) const HTTP_GET_ACTION: &[Field] = &[
    f(1, "path", Kind::Str),
    f(2, "port", Kind::IntOrString),
    f(3, "host", Kind::Str),
    f(4, "scheme", Kind::Str),
    list(5, "httpHeaders", Kind::Msg(HTTP_HEADER)),
    ptr(6, "protocol", Kind::Str),
];

pub(super) const TCP_SOCKET_ACTION: &[Field] =
    &[f(1, "port", Kind::IntOrString), f(2, "host", Kind::Str)];

pub(super) const GRPC_ACTION: &[Field] = &[
    ptr(1, "port", Kind::Int),
    ptr(2, "service", Kind::Str),
    ptr(3, "mode", Kind::Str),
];

pub(super) const PROBE_HANDLER: &[Field] = &[
    ptr(1, "exec", Kind::Msg(EXEC_ACTION)),
    ptr(2, "httpGet", Kind::Msg(HTTP_GET_ACTION)),
    ptr(3, "tcpSocket", Kind::Msg(TCP_SOCKET_ACTION)),
    ptr(4, "grpc", Kind::Msg(GRPC_ACTION)),
];

pub(super) const PROBE: &[Field] = &[
    f(1, "handler", Kind::Inline(PROBE_HANDLER)),
    f(2, "initialDelaySeconds", Kind::Int),
    f(3, "timeoutSeconds", Kind::Int),
    f(4, "periodSeconds", Kind::Int),
    f(5, "successThreshold", Kind::Int),
    f(6, "failureThreshold", Kind::Int),
    ptr(7, "terminationGracePeriodSeconds", Kind::Int),
];

pub(super) const SLEEP_ACTION: &[Field] = &[ptr(1, "seconds", Kind::Int)];

pub(super) const LIFECYCLE_HANDLER: &[Field] = &[
    ptr(1, "exec", Kind::Msg(EXEC_ACTION)),
    ptr(2, "httpGet", Kind::Msg(HTTP_GET_ACTION)),
    ptr(3, "tcpSocket", Kind::Msg(TCP_SOCKET_ACTION)),
    ptr(4, "sleep", Kind::Msg(SLEEP_ACTION)),
];

pub(super) const LIFECYCLE: &[Field] = &[
    ptr(1, "postStart", Kind::Msg(LIFECYCLE_HANDLER)),
    ptr(2, "preStop", Kind::Msg(LIFECYCLE_HANDLER)),
    ptr(3, "stopSignal", Kind::Str),
];

pub(super) const CAPABILITIES: &[Field] = &[list(1, "add", Kind::Str), list(2, "drop", Kind::Str)];

pub(super) const SE_LINUX_OPTIONS: &[Field] = &[
    f(1, "user", Kind::Str),
    f(2, "role", Kind::Str),
    f(3, "type", Kind::Str),
    f(4, "level", Kind::Str),
];

pub(super) const WINDOWS_SECURITY_CONTEXT_OPTIONS: &[Field] = &[
    ptr(1, "gmsaCredentialSpecName", Kind::Str),
    ptr(2, "gmsaCredentialSpec", Kind::Str),
    ptr(3, "runAsUserName", Kind::Str),
    ptr(4, "hostProcess", Kind::Bool),
];

pub(super) const SECCOMP_PROFILE: &[Field] = &[
    ptr(1, "type", Kind::Str),
    ptr(2, "localhostProfile", Kind::Str),
];

pub(super) const APP_ARMOR_PROFILE: &[Field] = &[
    ptr(1, "type", Kind::Str),
    ptr(2, "localhostProfile", Kind::Str),
];

pub(super) const SECURITY_CONTEXT: &[Field] = &[
    ptr(1, "capabilities", Kind::Msg(CAPABILITIES)),
    ptr(2, "privileged", Kind::Bool),
    ptr(3, "seLinuxOptions", Kind::Msg(SE_LINUX_OPTIONS)),
    ptr(
        10,
        "windowsOptions",
        Kind::Msg(WINDOWS_SECURITY_CONTEXT_OPTIONS),
    ),
    ptr(4, "runAsUser", Kind::Int),
    ptr(8, "runAsGroup", Kind::Int),
    ptr(5, "runAsNonRoot", Kind::Bool),
    ptr(6, "readOnlyRootFilesystem", Kind::Bool),
    ptr(7, "allowPrivilegeEscalation", Kind::Bool),
    ptr(9, "procMount", Kind::Str),
    ptr(11, "seccompProfile", Kind::Msg(SECCOMP_PROFILE)),
    ptr(12, "appArmorProfile", Kind::Msg(APP_ARMOR_PROFILE)),
];

pub(super) const CONTAINER: &[Field] = &[
    ptr(1, "name", Kind::Str),
    f(2, "image", Kind::Str),
    list(3, "command", Kind::Str),
    list(4, "args", Kind::Str),
    f(5, "workingDir", Kind::Str),
    list(6, "ports", Kind::Msg(CONTAINER_PORT)),
    list(19, "envFrom", Kind::Msg(ENV_FROM_SOURCE)),
    list(7, "env", Kind::Msg(ENV_VAR)),
    f(8, "resources", Kind::Msg(RESOURCE_REQUIREMENTS)),
    list(23, "resizePolicy", Kind::Msg(CONTAINER_RESIZE_POLICY)),
    ptr(24, "restartPolicy", Kind::Str),
    list(25, "restartPolicyRules", Kind::Msg(CONTAINER_RESTART_RULE)),
    list(9, "volumeMounts", Kind::Msg(VOLUME_MOUNT)),
    list(21, "volumeDevices", Kind::Msg(VOLUME_DEVICE)),
    ptr(10, "livenessProbe", Kind::Msg(PROBE)),
    ptr(11, "readinessProbe", Kind::Msg(PROBE)),
    ptr(22, "startupProbe", Kind::Msg(PROBE)),
    ptr(12, "lifecycle", Kind::Msg(LIFECYCLE)),
    f(13, "terminationMessagePath", Kind::Str),
    f(20, "terminationMessagePolicy", Kind::Str),
    f(14, "imagePullPolicy", Kind::Str),
    ptr(15, "securityContext", Kind::Msg(SECURITY_CONTEXT)),
    f(16, "stdin", Kind::Bool),
    f(17, "stdinOnce", Kind::Bool),
    f(18, "tty", Kind::Bool),
];

pub(super) const EPHEMERAL_CONTAINER_COMMON: &[Field] = &[
    ptr(1, "name", Kind::Str),
    f(2, "image", Kind::Str),
    list(3, "command", Kind::Str),
    list(4, "args", Kind::Str),
    f(5, "workingDir", Kind::Str),
    list(6, "ports", Kind::Msg(CONTAINER_PORT)),
    list(19, "envFrom", Kind::Msg(ENV_FROM_SOURCE)),
    list(7, "env", Kind::Msg(ENV_VAR)),
    f(8, "resources", Kind::Msg(RESOURCE_REQUIREMENTS)),
    list(23, "resizePolicy", Kind::Msg(CONTAINER_RESIZE_POLICY)),
    ptr(24, "restartPolicy", Kind::Str),
    list(25, "restartPolicyRules", Kind::Msg(CONTAINER_RESTART_RULE)),
    list(9, "volumeMounts", Kind::Msg(VOLUME_MOUNT)),
    list(21, "volumeDevices", Kind::Msg(VOLUME_DEVICE)),
    ptr(10, "livenessProbe", Kind::Msg(PROBE)),
    ptr(11, "readinessProbe", Kind::Msg(PROBE)),
    ptr(22, "startupProbe", Kind::Msg(PROBE)),
    ptr(12, "lifecycle", Kind::Msg(LIFECYCLE)),
    f(13, "terminationMessagePath", Kind::Str),
    f(20, "terminationMessagePolicy", Kind::Str),
    f(14, "imagePullPolicy", Kind::Str),
    ptr(15, "securityContext", Kind::Msg(SECURITY_CONTEXT)),
    f(16, "stdin", Kind::Bool),
    f(17, "stdinOnce", Kind::Bool),
    f(18, "tty", Kind::Bool),
];

pub(super) const EPHEMERAL_CONTAINER: &[Field] = &[
    f(
        1,
        "ephemeralContainerCommon",
        Kind::Inline(EPHEMERAL_CONTAINER_COMMON),
    ),
    f(2, "targetContainerName", Kind::Str),
];

pub(super) const SYSCTL: &[Field] = &[ptr(1, "name", Kind::Str), ptr(2, "value", Kind::Str)];

pub(super) const POD_SECURITY_CONTEXT: &[Field] = &[
    ptr(1, "seLinuxOptions", Kind::Msg(SE_LINUX_OPTIONS)),
    ptr(
        8,
        "windowsOptions",
        Kind::Msg(WINDOWS_SECURITY_CONTEXT_OPTIONS),
    ),
    ptr(2, "runAsUser", Kind::Int),
    ptr(6, "runAsGroup", Kind::Int),
    ptr(3, "runAsNonRoot", Kind::Bool),
    list(4, "supplementalGroups", Kind::Int),
    ptr(12, "supplementalGroupsPolicy", Kind::Str),
    ptr(5, "fsGroup", Kind::Int),
    list(7, "sysctls", Kind::Msg(SYSCTL)),
    ptr(9, "fsGroupChangePolicy", Kind::Str),
    ptr(10, "seccompProfile", Kind::Msg(SECCOMP_PROFILE)),
    ptr(11, "appArmorProfile", Kind::Msg(APP_ARMOR_PROFILE)),
    ptr(13, "seLinuxChangePolicy", Kind::Str),
];

pub(super) const NODE_SELECTOR_REQUIREMENT: &[Field] = &[
    ptr(1, "key", Kind::Str),
    ptr(2, "operator", Kind::Str),
    list(3, "values", Kind::Str),
];

pub(super) const NODE_SELECTOR_TERM: &[Field] = &[
    list(1, "matchExpressions", Kind::Msg(NODE_SELECTOR_REQUIREMENT)),
    list(2, "matchFields", Kind::Msg(NODE_SELECTOR_REQUIREMENT)),
];

pub(super) const NODE_SELECTOR: &[Field] =
    &[list(1, "nodeSelectorTerms", Kind::Msg(NODE_SELECTOR_TERM))];

pub(super) const PREFERRED_SCHEDULING_TERM: &[Field] = &[
    ptr(1, "weight", Kind::Int),
    f(2, "preference", Kind::Msg(NODE_SELECTOR_TERM)),
];

pub(super) const NODE_AFFINITY: &[Field] = &[
    ptr(
        1,
        "requiredDuringSchedulingIgnoredDuringExecution",
        Kind::Msg(NODE_SELECTOR),
    ),
    list(
        2,
        "preferredDuringSchedulingIgnoredDuringExecution",
        Kind::Msg(PREFERRED_SCHEDULING_TERM),
    ),
];

pub(super) const POD_AFFINITY_TERM: &[Field] = &[
    ptr(1, "labelSelector", Kind::Msg(LABEL_SELECTOR)),
    list(2, "namespaces", Kind::Str),
    ptr(3, "topologyKey", Kind::Str),
    ptr(4, "namespaceSelector", Kind::Msg(LABEL_SELECTOR)),
    list(5, "matchLabelKeys", Kind::Str),
    list(6, "mismatchLabelKeys", Kind::Str),
];

pub(super) const WEIGHTED_POD_AFFINITY_TERM: &[Field] = &[
    ptr(1, "weight", Kind::Int),
    f(2, "podAffinityTerm", Kind::Msg(POD_AFFINITY_TERM)),
];

pub(super) const POD_AFFINITY: &[Field] = &[
    list(
        1,
        "requiredDuringSchedulingIgnoredDuringExecution",
        Kind::Msg(POD_AFFINITY_TERM),
    ),
    list(
        2,
        "preferredDuringSchedulingIgnoredDuringExecution",
        Kind::Msg(WEIGHTED_POD_AFFINITY_TERM),
    ),
];

pub(super) const POD_ANTI_AFFINITY: &[Field] = &[
    list(
        1,
        "requiredDuringSchedulingIgnoredDuringExecution",
        Kind::Msg(POD_AFFINITY_TERM),
    ),
    list(
        2,
        "preferredDuringSchedulingIgnoredDuringExecution",
        Kind::Msg(WEIGHTED_POD_AFFINITY_TERM),
    ),
];

pub(super) const AFFINITY: &[Field] = &[
    ptr(1, "nodeAffinity", Kind::Msg(NODE_AFFINITY)),
    ptr(2, "podAffinity", Kind::Msg(POD_AFFINITY)),
    ptr(3, "podAntiAffinity", Kind::Msg(POD_ANTI_AFFINITY)),
];

pub(super) const TOLERATION: &[Field] = &[
    f(1, "key", Kind::Str),
    f(2, "operator", Kind::Str),
    f(3, "value", Kind::Str),
    f(4, "effect", Kind::Str),
    ptr(5, "tolerationSeconds", Kind::Int),
];

pub(super) const HOST_ALIAS: &[Field] = &[ptr(1, "ip", Kind::Str), list(2, "hostnames", Kind::Str)];

pub(super) const POD_DNS_CONFIG_OPTION: &[Field] =
    &[f(1, "name", Kind::Str), ptr(2, "value", Kind::Str)];

pub(super) const POD_DNS_CONFIG: &[Field] = &[
    list(1, "nameservers", Kind::Str),
    list(2, "searches", Kind::Str),
    list(3, "options", Kind::Msg(POD_DNS_CONFIG_OPTION)),
];

pub(super) const POD_READINESS_GATE: &[Field] = &[ptr(1, "conditionType", Kind::Str)];

pub(super) const TOPOLOGY_SPREAD_CONSTRAINT: &[Field] = &[
    ptr(1, "maxSkew", Kind::Int),
    ptr(2, "topologyKey", Kind::Str),
    ptr(3, "whenUnsatisfiable", Kind::Str),
    ptr(4, "labelSelector", Kind::Msg(LABEL_SELECTOR)),
    ptr(5, "minDomains", Kind::Int),
    ptr(6, "nodeAffinityPolicy", Kind::Str),
    ptr(7, "nodeTaintsPolicy", Kind::Str),
    list(8, "matchLabelKeys", Kind::Str),
];

pub(super) const POD_OS: &[Field] = &[ptr(1, "name", Kind::Str)];

pub(super) const POD_SCHEDULING_GATE: &[Field] = &[ptr(1, "name", Kind::Str)];

pub(super) const POD_RESOURCE_CLAIM: &[Field] = &[
    ptr(1, "name", Kind::Str),
    ptr(3, "resourceClaimName", Kind::Str),
    ptr(4, "resourceClaimTemplateName", Kind::Str),
];

pub(super) const POD_SCHEDULING_GROUP: &[Field] = &[ptr(1, "podGroupName", Kind::Str)];

pub(super) const EVICTION_RESPONDER: &[Field] =
    &[ptr(1, "name", Kind::Str), ptr(2, "priority", Kind::Int)];

pub(super) const POD_SPEC: &[Field] = &[
    list(1, "volumes", Kind::Msg(VOLUME)),
    list(20, "initContainers", Kind::Msg(CONTAINER)),
    list(2, "containers", Kind::Msg(CONTAINER)),
    list(34, "ephemeralContainers", Kind::Msg(EPHEMERAL_CONTAINER)),
    f(3, "restartPolicy", Kind::Str),
    ptr(4, "terminationGracePeriodSeconds", Kind::Int),
    ptr(5, "activeDeadlineSeconds", Kind::Int),
    f(6, "dnsPolicy", Kind::Str),
    f(7, "nodeSelector", Kind::MapStr),
    f(8, "serviceAccountName", Kind::Str),
    f(9, "serviceAccount", Kind::Str),
    ptr(21, "automountServiceAccountToken", Kind::Bool),
    f(10, "nodeName", Kind::Str),
    f(11, "hostNetwork", Kind::Bool),
    f(12, "hostPID", Kind::Bool),
    f(13, "hostIPC", Kind::Bool),
    ptr(27, "shareProcessNamespace", Kind::Bool),
    ptr(14, "securityContext", Kind::Msg(POD_SECURITY_CONTEXT)),
    list(15, "imagePullSecrets", Kind::Msg(LOCAL_OBJECT_REFERENCE)),
    f(16, "hostname", Kind::Str),
    f(17, "subdomain", Kind::Str),
    ptr(18, "affinity", Kind::Msg(AFFINITY)),
    f(19, "schedulerName", Kind::Str),
    list(22, "tolerations", Kind::Msg(TOLERATION)),
    list(23, "hostAliases", Kind::Msg(HOST_ALIAS)),
    f(24, "priorityClassName", Kind::Str),
    ptr(25, "priority", Kind::Int),
    ptr(26, "dnsConfig", Kind::Msg(POD_DNS_CONFIG)),
    list(28, "readinessGates", Kind::Msg(POD_READINESS_GATE)),
    ptr(29, "runtimeClassName", Kind::Str),
    ptr(30, "enableServiceLinks", Kind::Bool),
    ptr(31, "preemptionPolicy", Kind::Str),
    f(32, "overhead", Kind::MapQuantity),
    list(
        33,
        "topologySpreadConstraints",
        Kind::Msg(TOPOLOGY_SPREAD_CONSTRAINT),
    ),
    ptr(35, "setHostnameAsFQDN", Kind::Bool),
    ptr(36, "os", Kind::Msg(POD_OS)),
    ptr(37, "hostUsers", Kind::Bool),
    list(38, "schedulingGates", Kind::Msg(POD_SCHEDULING_GATE)),
    list(39, "resourceClaims", Kind::Msg(POD_RESOURCE_CLAIM)),
    ptr(40, "resources", Kind::Msg(RESOURCE_REQUIREMENTS)),
    ptr(41, "hostnameOverride", Kind::Str),
    ptr(43, "schedulingGroup", Kind::Msg(POD_SCHEDULING_GROUP)),
    list(44, "evictionResponders", Kind::Msg(EVICTION_RESPONDER)),
];

pub(super) const POD_TEMPLATE_SPEC: &[Field] = &[
    f(1, "metadata", Kind::Msg(OBJECT_META)),
    f(2, "spec", Kind::Msg(POD_SPEC)),
];

pub(super) const ROLLING_UPDATE_DEPLOYMENT: &[Field] = &[
    ptr(1, "maxUnavailable", Kind::IntOrString),
    ptr(2, "maxSurge", Kind::IntOrString),
];

pub(super) const DEPLOYMENT_STRATEGY: &[Field] = &[
    f(1, "type", Kind::Str),
    ptr(2, "rollingUpdate", Kind::Msg(ROLLING_UPDATE_DEPLOYMENT)),
];

pub(super) const DEPLOYMENT_SPEC: &[Field] = &[
    ptr(1, "replicas", Kind::Int),
    ptr(2, "selector", Kind::Msg(LABEL_SELECTOR)),
    f(3, "template", Kind::Msg(POD_TEMPLATE_SPEC)),
    f(4, "strategy", Kind::Msg(DEPLOYMENT_STRATEGY)),
    f(5, "minReadySeconds", Kind::Int),
    ptr(6, "revisionHistoryLimit", Kind::Int),
    f(7, "paused", Kind::Bool),
    ptr(9, "progressDeadlineSeconds", Kind::Int),
];

pub(super) const DEPLOYMENT: &[Field] = &[
    f(1, "metadata", Kind::Msg(OBJECT_META)),
    f(2, "spec", Kind::Msg(DEPLOYMENT_SPEC)),
];

pub(super) const REPLICA_SET_SPEC: &[Field] = &[
    ptr(1, "replicas", Kind::Int),
    f(4, "minReadySeconds", Kind::Int),
    ptr(2, "selector", Kind::Msg(LABEL_SELECTOR)),
    f(3, "template", Kind::Msg(POD_TEMPLATE_SPEC)),
];

pub(super) const REPLICA_SET: &[Field] = &[
    f(1, "metadata", Kind::Msg(OBJECT_META)),
    f(2, "spec", Kind::Msg(REPLICA_SET_SPEC)),
];

pub(super) const PERSISTENT_VOLUME_CLAIM_CONDITION: &[Field] = &[
    ptr(1, "type", Kind::Str),
    ptr(2, "status", Kind::Str),
    f(3, "lastProbeTime", Kind::Time),
    f(4, "lastTransitionTime", Kind::Time),
    f(5, "reason", Kind::Str),
    f(6, "message", Kind::Str),
];

pub(super) const MODIFY_VOLUME_STATUS: &[Field] = &[
    f(1, "targetVolumeAttributesClassName", Kind::Str),
    ptr(2, "status", Kind::Str),
];

pub(super) const VOLUME_HEALTH_CONDITION: &[Field] = &[
    ptr(1, "status", Kind::Str),
    ptr(2, "reason", Kind::Str),
    f(3, "message", Kind::Str),
];

pub(super) const VOLUME_HEALTH_STATUS: &[Field] = &[
    list(1, "healthConditions", Kind::Msg(VOLUME_HEALTH_CONDITION)),
    f(2, "lastTransitionTime", Kind::Time),
];

pub(super) const PERSISTENT_VOLUME_CLAIM_STATUS: &[Field] = &[
    f(1, "phase", Kind::Str),
    list(2, "accessModes", Kind::Str),
    f(3, "capacity", Kind::MapQuantity),
    list(
        4,
        "conditions",
        Kind::Msg(PERSISTENT_VOLUME_CLAIM_CONDITION),
    ),
    f(5, "allocatedResources", Kind::MapQuantity),
    f(7, "allocatedResourceStatuses", Kind::MapStr),
    ptr(8, "currentVolumeAttributesClassName", Kind::Str),
    ptr(9, "modifyVolumeStatus", Kind::Msg(MODIFY_VOLUME_STATUS)),
    ptr(10, "healthStatus", Kind::Msg(VOLUME_HEALTH_STATUS)),
];

pub(super) const PERSISTENT_VOLUME_CLAIM: &[Field] = &[
    f(1, "metadata", Kind::Msg(OBJECT_META)),
    f(2, "spec", Kind::Msg(PERSISTENT_VOLUME_CLAIM_SPEC)),
    f(3, "status", Kind::Msg(PERSISTENT_VOLUME_CLAIM_STATUS)),
];

pub(super) const ROLLING_UPDATE_STATEFUL_SET_STRATEGY: &[Field] = &[
    ptr(1, "partition", Kind::Int),
    ptr(2, "maxUnavailable", Kind::IntOrString),
];

pub(super) const STATEFUL_SET_UPDATE_STRATEGY: &[Field] = &[
    f(1, "type", Kind::Str),
    ptr(
        2,
        "rollingUpdate",
        Kind::Msg(ROLLING_UPDATE_STATEFUL_SET_STRATEGY),
    ),
];

pub(super) const STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY: &[Field] = &[
    f(1, "whenDeleted", Kind::Str),
    f(2, "whenScaled", Kind::Str),
];

pub(super) const STATEFUL_SET_ORDINALS: &[Field] = &[ptr(1, "start", Kind::Int)];

pub(super) const STATEFUL_SET_SPEC: &[Field] = &[
    ptr(1, "replicas", Kind::Int),
    ptr(2, "selector", Kind::Msg(LABEL_SELECTOR)),
    f(3, "template", Kind::Msg(POD_TEMPLATE_SPEC)),
    list(
        4,
        "volumeClaimTemplates",
        Kind::Msg(PERSISTENT_VOLUME_CLAIM),
    ),
    ptr(5, "serviceName", Kind::Str),
    f(6, "podManagementPolicy", Kind::Str),
    f(7, "updateStrategy", Kind::Msg(STATEFUL_SET_UPDATE_STRATEGY)),
    ptr(8, "revisionHistoryLimit", Kind::Int),
    f(9, "minReadySeconds", Kind::Int),
    ptr(
        10,
        "persistentVolumeClaimRetentionPolicy",
        Kind::Msg(STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY),
    ),
    ptr(11, "ordinals", Kind::Msg(STATEFUL_SET_ORDINALS)),
];

pub(super) const STATEFUL_SET: &[Field] = &[
    f(1, "metadata", Kind::Msg(OBJECT_META)),
    f(2, "spec", Kind::Msg(STATEFUL_SET_SPEC)),
];

pub(super) const ROLLING_UPDATE_DAEMON_SET: &[Field] = &[
    ptr(1, "maxUnavailable", Kind::IntOrString),
    ptr(2, "maxSurge", Kind::IntOrString),
];

pub(super) const DAEMON_SET_UPDATE_STRATEGY: &[Field] = &[
    f(1, "type", Kind::Str),
    ptr(2, "rollingUpdate", Kind::Msg(ROLLING_UPDATE_DAEMON_SET)),
];

pub(super) const DAEMON_SET_SPEC: &[Field] = &[
    ptr(1, "selector", Kind::Msg(LABEL_SELECTOR)),
    f(2, "template", Kind::Msg(POD_TEMPLATE_SPEC)),
    f(3, "updateStrategy", Kind::Msg(DAEMON_SET_UPDATE_STRATEGY)),
    f(4, "minReadySeconds", Kind::Int),
    ptr(6, "revisionHistoryLimit", Kind::Int),
];

pub(super) const DAEMON_SET: &[Field] = &[
    f(1, "metadata", Kind::Msg(OBJECT_META)),
    f(2, "spec", Kind::Msg(DAEMON_SET_SPEC)),
];

pub(super) const POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT: &[Field] = &[
    ptr(1, "containerName", Kind::Str),
    ptr(2, "operator", Kind::Str),
    list(3, "values", Kind::Int),
];

pub(super) const POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN: &[Field] =
    &[ptr(1, "type", Kind::Str), ptr(2, "status", Kind::Str)];

pub(super) const POD_FAILURE_POLICY_RULE: &[Field] = &[
    ptr(1, "action", Kind::Str),
    ptr(
        2,
        "onExitCodes",
        Kind::Msg(POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT),
    ),
    list(
        3,
        "onPodConditions",
        Kind::Msg(POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN),
    ),
];

pub(super) const POD_FAILURE_POLICY: &[Field] =
    &[list(1, "rules", Kind::Msg(POD_FAILURE_POLICY_RULE))];

pub(super) const SUCCESS_POLICY_RULE: &[Field] = &[
    ptr(1, "succeededIndexes", Kind::Str),
    ptr(2, "succeededCount", Kind::Int),
];

pub(super) const SUCCESS_POLICY: &[Field] = &[list(1, "rules", Kind::Msg(SUCCESS_POLICY_RULE))];

pub(super) const JOB_SCHEDULING_CONFIGURATION: &[Field] = &[];

pub(super) const JOB_SPEC: &[Field] = &[
    ptr(1, "parallelism", Kind::Int),
    ptr(2, "completions", Kind::Int),
    ptr(3, "activeDeadlineSeconds", Kind::Int),
    ptr(11, "podFailurePolicy", Kind::Msg(POD_FAILURE_POLICY)),
    ptr(16, "successPolicy", Kind::Msg(SUCCESS_POLICY)),
    ptr(7, "backoffLimit", Kind::Int),
    ptr(12, "backoffLimitPerIndex", Kind::Int),
    ptr(13, "maxFailedIndexes", Kind::Int),
    ptr(4, "selector", Kind::Msg(LABEL_SELECTOR)),
    ptr(5, "manualSelector", Kind::Bool),
    f(6, "template", Kind::Msg(POD_TEMPLATE_SPEC)),
    ptr(8, "ttlSecondsAfterFinished", Kind::Int),
    ptr(9, "completionMode", Kind::Str),
    ptr(10, "suspend", Kind::Bool),
    ptr(14, "podReplacementPolicy", Kind::Str),
    ptr(15, "managedBy", Kind::Str),
    ptr(17, "scheduling", Kind::Msg(JOB_SCHEDULING_CONFIGURATION)),
];

pub(super) const JOB: &[Field] = &[
    f(1, "metadata", Kind::Msg(OBJECT_META)),
    f(2, "spec", Kind::Msg(JOB_SPEC)),
];

pub(super) const JOB_TEMPLATE_SPEC: &[Field] = &[
    f(1, "metadata", Kind::Msg(OBJECT_META)),
    f(2, "spec", Kind::Msg(JOB_SPEC)),
];

pub(super) const CRON_JOB_SPEC: &[Field] = &[
    ptr(1, "schedule", Kind::Str),
    ptr(8, "timeZone", Kind::Str),
    ptr(2, "startingDeadlineSeconds", Kind::Int),
    f(3, "concurrencyPolicy", Kind::Str),
    ptr(4, "suspend", Kind::Bool),
    f(5, "jobTemplate", Kind::Msg(JOB_TEMPLATE_SPEC)),
    ptr(6, "successfulJobsHistoryLimit", Kind::Int),
    ptr(7, "failedJobsHistoryLimit", Kind::Int),
];

pub(super) const CRON_JOB: &[Field] = &[
    f(1, "metadata", Kind::Msg(OBJECT_META)),
    f(2, "spec", Kind::Msg(CRON_JOB_SPEC)),
];

pub(super) const POD: &[Field] = &[
    f(1, "metadata", Kind::Msg(OBJECT_META)),
    f(2, "spec", Kind::Msg(POD_SPEC)),
];
