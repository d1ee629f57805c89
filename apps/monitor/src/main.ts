// Distributed mode: the monitor as its own process (telemetry, config and bootstrap order in the kit).
import { runServiceProcess } from '@stratum/service-kit';
import { service } from './service';

void runServiceProcess(service);
